"""Platform adapters: each maps its platform's payloads to core commands and core effects to platform calls."""
