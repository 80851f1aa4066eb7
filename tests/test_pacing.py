"""Pacing rules, on a virtual clock: no sleeping in tests."""

from __future__ import annotations

import asyncio

import pytest

from scheduler.pacing import Pacer


class VirtualTime:
    def __init__(self):
        self.now = 0.0
        self.sent: list[tuple[float, str | None]] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def send_all(pacer: Pacer, clock: VirtualTime, channels: list[str | None]) -> list[float]:
    times = []
    for channel in channels:
        await pacer.wait(channel)
        times.append(clock.now)
    return times


def paced(**options) -> tuple[Pacer, VirtualTime]:
    clock = VirtualTime()
    return Pacer(monotonic=clock.monotonic, sleep=clock.sleep, **options), clock


async def test_a_global_rate_spaces_every_request():
    pacer, clock = paced(per_second=50)
    times = await send_all(pacer, clock, [None] * 101)
    assert times[-1] == pytest.approx(2.0)  # 100 gaps of 20 ms
    assert all(b - a == pytest.approx(0.02) for a, b in zip(times, times[1:]))


async def test_a_burst_is_allowed_after_a_quiet_spell():
    pacer, clock = paced(per_second=10, burst=5)
    clock.now = 100.0
    times = await send_all(pacer, clock, [None] * 7)
    assert times[:5] == [100.0] * 5
    assert times[5:] == pytest.approx([100.1, 100.2])


async def test_each_channel_gets_one_message_a_second_but_channels_do_not_wait_for_each_other():
    pacer, clock = paced(per_channel_gap=1.0)
    times = await send_all(pacer, clock, ["a", "b", "a", "c", "b"])
    assert times == [0.0, 0.0, 1.0, 1.0, 1.0]


async def test_a_429_stops_everyone_for_retry_after():
    pacer, clock = paced(per_second=100)
    await pacer.wait()
    pacer.slow_down(2.5)
    await pacer.wait()
    assert clock.now == 2.5
    unlimited, clock = paced(per_channel_gap=1.0)
    unlimited.slow_down(3.0)
    assert await send_all(unlimited, clock, ["a", "b"]) == [3.0, 3.0]


async def test_the_default_clock_is_the_event_loop():
    pacer = Pacer(per_second=1000)
    started = asyncio.get_running_loop().time()
    for _ in range(3):
        await pacer.wait()
    assert asyncio.get_running_loop().time() - started >= 0.002
