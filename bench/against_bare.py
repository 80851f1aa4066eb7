"""Latency against a bare bot, shared by the chat benchmarks: alternating rounds, p50 and p99, their ratios."""

from __future__ import annotations

import argparse
import json
import os
import statistics
from collections.abc import Awaitable, Callable
from pathlib import Path

NAMES = ("bare", "circlebot")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def alternate(rounds: int, measure: Callable[[str], Awaitable[list[float]]]) -> list[dict]:
    """``rounds`` rounds of ``measure(name)`` (latencies in seconds) for both bots, alternating which goes first."""
    results = []
    for index in range(rounds):
        figures: dict = {}
        for name in NAMES if index % 2 == 0 else NAMES[::-1]:
            latencies = await measure(name)
            figures[name] = {"p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}
        figures["p50_ratio"] = figures["circlebot"]["p50_ms"] / figures["bare"]["p50_ms"]
        figures["p99_ratio"] = figures["circlebot"]["p99_ms"] / figures["bare"]["p99_ms"]
        results.append(figures)
        print(f"round {index + 1}: bare p50 {figures['bare']['p50_ms']:.1f} ms p99 {figures['bare']['p99_ms']:.1f} ms;"
              f" circlebot p50 {figures['circlebot']['p50_ms']:.1f} ms p99 {figures['circlebot']['p99_ms']:.1f} ms;"
              f" ratio p50 {figures['p50_ratio']:.2f} p99 {figures['p99_ratio']:.2f}", flush=True)
    return results


def summary(rounds: list[dict], args: argparse.Namespace) -> dict:
    return {"rounds": rounds, "p50_ratio": statistics.median(r["p50_ratio"] for r in rounds),
            "p99_ratio": statistics.median(r["p99_ratio"] for r in rounds),
            "requests": args.requests, "concurrency": args.concurrency, "loadavg": os.getloadavg()}


def arguments(description: str, unit: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=1000, help=f"{unit} per bot per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--db", help="database URL for circlebot (default: a fresh SQLite file)")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser


def report(result: dict, args: argparse.Namespace) -> None:
    print(f"median over {args.rounds} rounds: p50 ratio {result['p50_ratio']:.2f}, p99 ratio {result['p99_ratio']:.2f}"
          f" (goal p99 <= 1.2); load average {result['loadavg'][0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
