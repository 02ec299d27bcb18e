"""Configuration: settings from the environment and `fission.toml`, and rule thresholds."""

from config.rules import GradingRules, LifecycleRules
from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "GradingRules", "LifecycleRules", "Settings", "load_settings"]
