"""The data standard, as data (dictionaries now; libraries and IoT templates as they are added)."""
from pathlib import Path

ROOT = Path(__file__).parent
