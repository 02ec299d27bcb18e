"""Settings from `FISSION_*` environment variables and an optional `fission.toml`.

Platform keys are flat (`FISSION_WECOM_CORP_ID`) because deployment scripts rely on those exact
names; in the TOML file the same keys sit in sections (`[wecom] corp_id = "…"`), which the
TOML source flattens. Rule thresholds are nested models (`[lifecycle]`, or
`FISSION_LIFECYCLE__CHURNED_AFTER_DAYS`).

Settings are built by `load_settings()` — never at import time — so tests and the CLI decide
where they come from.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from config.campaigns import CampaignConfig, MarketingSettings
from config.outbox import OutboxSettings
from config.playbook import Playbook
from config.referral import CouponTemplateConfig, ProgramConfig
from config.reports import ReferralReportRules
from config.rules import GradingRules, LifecycleRules

PLATFORM_SECTIONS = ("wecom", "wechat", "feishu")
DEFAULT_CONFIG_FILE = "fission.toml"


class ConfigError(Exception):
    """Configuration that cannot be used; the message is meant for an operator."""


class _TomlSource(PydanticBaseSettingsSource):
    """Reads `fission.toml`, flattening the platform sections into `wecom_corp_id` style keys."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is None:
            return
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"配置文件不存在 / config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件格式错误 / invalid TOML in {path}: {exc}") from exc
        for key, value in raw.items():
            if key in PLATFORM_SECTIONS and isinstance(value, dict):
                for sub, subvalue in value.items():
                    self._data[f"{key}_{sub}"] = subvalue
            else:
                self._data[key] = value

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class SchedulerSettings(BaseModel):
    """`[scheduler]`: the in-process job scheduler that `fission serve` runs (jobs/)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Nightly lifecycle + grades, a crontab line in the configured time zone.
    lifecycle_cron: str = "0 2 * * *"
    # Reward settlement and coupon expiry every N minutes, on fixed local times (N = 60: on the
    # hour), so a slot is the same whichever process or restart computes it.
    settle_interval_minutes: int = Field(60, ge=1, le=1440)
    # WeCom mass-message results read back (and staff reminded) every N minutes, when WeCom
    # is configured.
    wecom_poll_minutes: int = Field(10, ge=1, le=1440)
    # Each owner's follow-ups due today, pushed to them in chat (seed 004 step 5).
    reminders_cron: str = "0 9 * * *"
    # Finished campaign runs checked for a win-back rate below the campaign's alert line.
    winback_cron: str = "0 10 * * *"

    @field_validator("lifecycle_cron", "reminders_cron", "winback_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a crontab line (e.g. '0 2 * * *'): {exc}") from exc
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FISSION_",
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    database_url: str = "sqlite+aiosqlite:///./fission.db"
    timezone: str = "Asia/Shanghai"
    locale: str = Field("zh-CN", pattern="^(zh-CN|en)$")
    public_base_url: str = "http://127.0.0.1:8080"
    api_token: SecretStr | None = None
    # Bearer token for /metrics from anywhere; unset, /metrics is served to loopback only.
    metrics_token: SecretStr | None = None
    mask_names: bool = True
    # Landing page, posters and click hashing (issue 4, bot/web/landing.py).
    # A WeCom "contact me" link or group invite shown as a QR on the landing page.
    join_url: str | None = Field(None, pattern=r"^https?://\S+$")
    # Key of the visitor hash (HMAC of IP + user agent). Unset: derived from api_token, else a
    # random key generated once and kept in state_dir. Set it when processes share no disk.
    click_secret: SecretStr | None = None
    # Proxies in front of the app that append to X-Forwarded-For; 0 = ignore the header.
    trusted_proxy_hops: int = Field(0, ge=0, le=10)
    # Files the service makes itself: the poster cache, the generated click key.
    state_dir: Path = Path("./var")
    # The font posters are drawn in (a .ttf, .otf or .ttc file, e.g. the shop's brand font).
    # Unset: the Noto Sans SC subset shipped with the project (models/referral/fonts/).
    poster_font: Path | None = None

    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: SecretStr | None = None
    wecom_api_base: str = "https://qyapi.weixin.qq.com"

    wechat_app_id: str | None = None
    wechat_secret: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"

    feishu_app_id: str | None = None
    feishu_app_secret: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    feishu_encrypt_key: SecretStr | None = None
    feishu_api_base: str = "https://open.feishu.cn"

    lifecycle: LifecycleRules = Field(default_factory=LifecycleRules)
    grading: GradingRules = Field(default_factory=GradingRules)
    # Referral programs and coupon templates (`[[programs]]`, `[[coupon_templates]]`,
    # config/referral.py); `fission program sync` loads them into the database.
    programs: list[ProgramConfig] = Field(default_factory=list)
    coupon_templates: list[CouponTemplateConfig] = Field(default_factory=list)
    # Referral management table and funnel (`[reports]`, config/reports.py).
    reports: ReferralReportRules = Field(default_factory=ReferralReportRules)
    # Per-stage goal, actions, owner, follow-up cadence on the customer card (config/playbook.py)
    playbook: Playbook = Field(default_factory=Playbook)
    # The scheduler of nightly lifecycle and hourly settlement (`[scheduler]`, jobs/).
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    # Reactivation campaigns (`[[campaigns]]`) and the rules all of them share (`[marketing]`,
    # config/campaigns.py); `fission campaign sync` loads the campaigns into the database.
    campaigns: list[CampaignConfig] = Field(default_factory=list)
    marketing: MarketingSettings = Field(default_factory=MarketingSettings)
    # The delivery workers that drain the campaign outbox (`[outbox]`, config/outbox.py).
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from exc
        return value

    @field_validator("poster_font")
    @classmethod
    def _readable_font(cls, value: Path | None) -> Path | None:
        from PIL import ImageFont

        if value is None:
            return None
        if not value.is_file():
            raise ValueError(f"no font file at {value}")
        try:
            ImageFont.truetype(str(value), 12)
        except OSError as exc:
            raise ValueError(f"{value} is not a font file (.ttf, .otf or .ttc)") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("public_base_url", "wecom_api_base", "wechat_api_base", "feishu_api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def wecom(self) -> WeComCredentials | None:
        if not (self.wecom_corp_id and self.wecom_secret):
            return None
        return WeComCredentials(
            corp_id=self.wecom_corp_id,
            agent_id=self.wecom_agent_id,
            secret=self.wecom_secret.get_secret_value(),
            token=_secret(self.wecom_token),
            aes_key=_secret(self.wecom_aes_key),
            api_base=self.wecom_api_base,
        )

    @property
    def wechat(self) -> WeChatCredentials | None:
        if not (self.wechat_app_id and self.wechat_secret):
            return None
        return WeChatCredentials(
            app_id=self.wechat_app_id,
            secret=self.wechat_secret.get_secret_value(),
            token=_secret(self.wechat_token),
            aes_key=_secret(self.wechat_aes_key),
            api_base=self.wechat_api_base,
        )

    @property
    def feishu(self) -> FeishuCredentials | None:
        """All four keys, or no Feishu channel (`load_settings` refuses a partial set)."""
        app_id, secret = self.feishu_app_id, _secret(self.feishu_app_secret)
        token, key = _secret(self.feishu_verification_token), _secret(self.feishu_encrypt_key)
        if not (app_id and secret and token and key):
            return None
        return FeishuCredentials(
            app_id=app_id,
            app_secret=secret,
            verification_token=token,
            encrypt_key=key,
            api_base=self.feishu_api_base,
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments > environment > fission.toml > defaults.
        return (init_settings, env_settings, _TomlSource(settings_cls, _CONFIG_PATH.get()))


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


@dataclass(frozen=True)
class WeComCredentials:
    corp_id: str
    agent_id: int | None
    secret: str = field(repr=False)
    token: str | None = field(repr=False)
    aes_key: str | None = field(repr=False)
    api_base: str


@dataclass(frozen=True)
class WeChatCredentials:
    app_id: str
    secret: str = field(repr=False)
    token: str | None = field(repr=False)
    aes_key: str | None = field(repr=False)
    api_base: str


@dataclass(frozen=True)
class FeishuCredentials:
    app_id: str
    app_secret: str = field(repr=False)
    verification_token: str = field(repr=False)
    encrypt_key: str = field(repr=False)
    api_base: str


# The Feishu channel fails closed: it runs with all four keys or not at all. The Verification
# Token proves an event (and the URL verification) comes from Feishu; the Encrypt Key is needed
# as well, because only with it does Feishu encrypt events and sign them (X-Lark-Signature over
# timestamp, nonce and body) — without it the token travels in every plaintext body, nothing
# dates the request, and anyone who once saw a body (a logging proxy) could forge events.
_CREDENTIALS_PAGE = ("凭证与基础信息", "Credentials & Basic Info")
_ENCRYPTION_PAGE = ("事件与回调 › 加密策略", "Events & Callbacks › Encryption Strategy")
# Each key, and where the Feishu developer console shows it (Chinese, English).
FEISHU_KEYS = {
    "feishu_app_id": _CREDENTIALS_PAGE,
    "feishu_app_secret": _CREDENTIALS_PAGE,
    "feishu_verification_token": _ENCRYPTION_PAGE,
    "feishu_encrypt_key": _ENCRYPTION_PAGE,
}


def missing_feishu_keys(settings: Settings) -> list[str]:
    """The Feishu keys an operator still has to set, once any of them is set."""
    present = {key: bool(getattr(settings, key)) for key in FEISHU_KEYS}
    if not any(present.values()):
        return []
    return [key for key, is_set in present.items() if not is_set]


class _PathHolder:
    """Carries the chosen config path into `settings_customise_sources` (a classmethod)."""

    def __init__(self) -> None:
        self._path: Path | None = None

    def get(self) -> Path | None:
        return self._path

    def set(self, path: Path | None) -> None:
        self._path = path


_CONFIG_PATH = _PathHolder()


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """`--config` wins, then `FISSION_CONFIG`, then `./fission.toml` if it exists."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("FISSION_CONFIG")
    if from_env:
        return Path(from_env)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def setting_name(loc: tuple[int | str, ...]) -> str:
    """A setting as the operator writes it: `timezone (FISSION_TIMEZONE)`,
    `wecom_agent_id (FISSION_WECOM_AGENT_ID; [wecom] agent_id in fission.toml)`,
    `lifecycle.window_days (FISSION_LIFECYCLE__WINDOW_DAYS; [lifecycle] window_days …)`."""
    parts = [str(part) for part in loc]
    if not parts:
        return "settings"
    dotted = ".".join(parts)
    if any(part.isdigit() for part in parts) or len(parts) > 2:
        return dotted  # inside a list (programs, coupon templates): the path says where
    env = "FISSION_" + "__".join(part.upper() for part in parts)
    head = parts[0]
    if len(parts) == 2:
        return f"{dotted} ({env}; [{head}] {parts[1]} in fission.toml)"
    for section in PLATFORM_SECTIONS:
        if head.startswith(f"{section}_"):
            key = head.removeprefix(f"{section}_")
            return f"{dotted} ({env}; [{section}] {key} in fission.toml)"
    return f"{dotted} ({env})"


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build validated settings or raise `ConfigError` with a message naming each bad key."""
    _CONFIG_PATH.set(resolve_config_path(config_file))
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        lines = [f"  {setting_name(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError("配置无效 / invalid configuration:\n" + "\n".join(lines)) from exc
    finally:
        _CONFIG_PATH.set(None)
    missing = missing_feishu_keys(settings)
    if missing:
        lines = [
            f"  {setting_name((key,))}: 飞书渠道需要此项（开发者后台 › {FEISHU_KEYS[key][0]}）"
            f"/ required by the Feishu channel (developer console › {FEISHU_KEYS[key][1]})"
            for key in missing
        ]
        raise ConfigError("配置无效 / invalid configuration:\n" + "\n".join(lines))
    return settings
