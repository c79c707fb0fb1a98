"""One settings object, read once from ``BOUNCELEDGER_*`` environment variables (SPEC §8)."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.tokens import token_weakness
from domain.policy import Policy

DEFAULT_SECRET = "insecure-development-secret"


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting must not print the secrets beside it.
    model_config = SettingsConfigDict(env_prefix="BOUNCELEDGER_", extra="ignore",
                                      hide_input_in_errors=True)

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./bounceledger.db"
    redis_url: str = ""
    redis_prefix: str = "bl:"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Proxies (IPs or networks, comma-separated; "*" = any peer) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed. None by default: the peer itself is the client.
    forwarded_allow_ips: str = ""

    sns_topic_arns: str = ""
    sns_auto_confirm: bool = True
    sns_cert_dir: str = ""
    sns_max_age_s: int = Field(86400, ge=0)
    ses_account_ids: str = ""
    # Gather concurrent webhook calls into one transaction (off: one save per call).
    ingest_group_commit: bool = True
    # How long a write waits for a database that went away before answering 503 (SNS gives
    # up on a request after 15 s; a short restart is then never seen by the client).
    store_outage_budget_s: float = Field(8.0, ge=0, le=12)

    aws_region: str = "us-east-1"
    aws_endpoint_url: str = ""
    ses_configuration_set: str = ""
    ses_max_send_rate: float = Field(14.0, gt=0)
    sqs_queue_url: str = ""
    # The SQS subscription delivers bare SES JSON (SNS raw message delivery on).
    sqs_raw_delivery: bool = False

    soft_bounce_limit: int = Field(3, ge=1)
    soft_bounce_window_days: float = Field(14, gt=0)
    transient_grace_days: float = Field(14, gt=0)
    complaint_limit: int = Field(1, ge=1)
    message_map_ttl_days: float = Field(30, gt=0)

    bootstrap_token: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    erasure_key: SecretStr = SecretStr("")
    # Signs console sessions and CSRF tokens; unset: SECRET_KEY when it is not the default,
    # else a random key per process (sessions then end on restart and need one worker).
    session_secret: SecretStr = SecretStr("")

    # Outgoing webhooks (SPEC §11; README "Outgoing webhooks").
    webhook_max_attempts: int = Field(14, ge=1, le=100)
    # Private, loopback and link-local targets; unset: allowed in development only.
    webhook_allow_private: bool | None = None
    webhook_timeout_s: float = Field(10.0, gt=0, le=60)
    webhook_concurrency: int = Field(4, ge=1, le=64)
    webhook_backoff_s: float = Field(10.0, gt=0)
    webhook_backoff_cap_s: float = Field(43200.0, gt=0)
    # Deliveries in a row that end failed (every attempt used) before an endpoint is disabled.
    webhook_disable_after: int = Field(5, ge=1)
    # How long a rotated-out secret still signs deliveries beside the new one.
    webhook_secret_overlap_hours: float = Field(24.0, ge=0)
    # Run the delivery thread in ``serve`` and ``worker`` (off: another process delivers).
    webhook_dispatch: bool = True

    # SES account-level suppression list sync (SPEC §12).
    ses_suppression_sync: Literal["off", "push", "pull", "both"] = "off"
    ses_sync_rate: float = Field(1.0, gt=0)
    # How long a push call stays claimed: a process that died mid-call is taken over after.
    ses_sync_lease_s: float = Field(120.0, gt=0)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",") if e.strip()):
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _strong_bootstrap_token(self) -> Settings:
        """Checked after parsing, so an error shows the settings masked, never the token."""
        token = self.bootstrap_token.get_secret_value()
        weakness = token_weakness(token) if token else None
        if weakness:
            raise ValueError(f"BOUNCELEDGER_BOOTSTRAP_TOKEN is too weak: {weakness}")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and (
            self.secret_key.get_secret_value() in ("", DEFAULT_SECRET)
        ):
            raise ValueError("BOUNCELEDGER_SECRET_KEY must be set outside development")
        return self

    def policy(self) -> Policy:
        return Policy(
            soft_bounce_limit=self.soft_bounce_limit,
            soft_bounce_window=timedelta(days=self.soft_bounce_window_days),
            transient_grace=timedelta(days=self.transient_grace_days),
            complaint_limit=self.complaint_limit,
        )

    def session_key(self) -> bytes:
        """The console's signing key (see ``session_secret``); random when none is set."""
        for secret in (self.session_secret, self.secret_key):
            value = secret.get_secret_value()
            if value and value != DEFAULT_SECRET:
                return value.encode()
        return secrets.token_bytes(32)

    @property
    def allow_private_webhooks(self) -> bool:
        """``WEBHOOK_ALLOW_PRIVATE``, defaulting to true in development only (SPEC §11)."""
        if self.webhook_allow_private is None:
            return self.environment == "development"
        return self.webhook_allow_private

    @property
    def webhook_https_only(self) -> bool:
        return self.environment != "development"

    @property
    def ses_push(self) -> bool:
        return self.ses_suppression_sync in ("push", "both")

    @property
    def ses_pull(self) -> bool:
        return self.ses_suppression_sync in ("pull", "both")

    def topic_patterns(self) -> list[str]:
        return [t.strip() for t in self.sns_topic_arns.split(",") if t.strip()]
