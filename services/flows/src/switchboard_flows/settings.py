"""Flows settings (`SWITCHBOARD_*`)."""

from __future__ import annotations

from pydantic import SecretStr

from switchboard_runtime.settings import ServiceSettings

from .effects.email import SmtpConfig


class FlowsSettings(ServiceSettings):
    flows_host: str = "127.0.0.1"
    flows_port: int = 8084
    # HTTP nodes may call loopback, private and link-local addresses (an ERP on the same machine);
    # false by default and in deploy/k8s, true in `make run`'s development default
    allow_private_urls: bool = False
    smtp_host: str | None = None  # e-mail nodes: the SMTP server (unset: they take their `failed` exit)
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "switchboard@localhost"
    smtp_starttls: bool = False
    smtp_tls: bool = False  # implicit TLS (port 465)
    smtp_timeout_seconds: float = 10.0
    flows_overdue_sweep_seconds: float = 60.0  # how often executions with an overdue timer are looked for
    flows_overdue_grace_seconds: float = 120.0  # … overdue: this long past their timer's time
    # The retired `flows__statuses` consumer, where a deployment still has it: how often it is looked
    # at, and how long after `flows__outcomes` was created an older replica may still send without
    # `outcome_to` (legacy_statuses.py)
    flows_legacy_statuses_check_seconds: float = 60.0
    flows_legacy_statuses_grace_seconds: float = 600.0
    flows_execution_cache: int = 20_000  # executions kept in memory (the event store is the truth)
    flows_max_body_bytes: int = 8 * 1024 * 1024  # a request body (a flow definition) at most
    default_region: str | None = None  # region for numbers written without + in API starts (e.g. BR)

    def smtp(self) -> SmtpConfig | None:
        if not self.smtp_host:
            return None
        return SmtpConfig(host=self.smtp_host, port=self.smtp_port, username=self.smtp_username,
                          password=self.smtp_password.get_secret_value() if self.smtp_password else None,
                          sender=self.smtp_from, starttls=self.smtp_starttls, use_tls=self.smtp_tls,
                          timeout_seconds=self.smtp_timeout_seconds)
