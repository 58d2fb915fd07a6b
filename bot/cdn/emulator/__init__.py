"""A local stand-in for the Alibaba Cloud CDN API that speaks its real wire protocol."""

from bot.cdn.emulator.server import Emulator, EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig"]
