"""Evaluate every customer alert kind of the registry for every customer, reconcile the stored
alerts, route and deliver: one step after the metrics (champion_inactive included).

`as_of_day` is the run's as-of date (today): it is never complete, so the rules read days up to
`as_of_day - 1` only, while the alerts' own dates (triggered, resolved, snoozed until, escalation
age) are run dates. Evaluation, escalation and the delivery rows commit in one transaction;
messages are sent after it (see routing.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin.delivery import webhook_urls
from pendo_core.admin.secrets import SecretsError, load_cipher
from pendo_core.admin.settings import AppSettings, current_settings
from pendo_core.alerts.delivery import Channel, RoutedWebhook, SmtpChannel, WebhookChannel
from pendo_core.alerts.inputs import AlertInputs, add_health, load_alert_inputs
from pendo_core.alerts.kinds import evaluate_customer
from pendo_core.alerts.repo import ReconcileCounts, reconcile
from pendo_core.alerts.routing import DeliveryStats, deliver, plan_deliveries, plan_escalations
from pendo_core.common.config import Settings
from pendo_core.health.inputs import key_feature_ids
from pendo_core.pendo.sync.store import Fence, run_fence, unfenced

if TYPE_CHECKING:
    from pendo_core.pendo.sync.runner import RunSummary, SyncRequest

log = logging.getLogger("pendo_core.alerts")


@dataclass(frozen=True)
class AlertRun:
    """What one evaluation did."""

    last_day: date
    customers: int
    counts: ReconcileCounts
    escalated: int
    planned_deliveries: int
    delivery: DeliveryStats | None


@dataclass(frozen=True)
class AlertReading:
    """What an evaluation reads before the health scores: the settings it judges by, and every input of the
    customers evaluated but their scores (`inputs.add_health` adds them when it judges)."""

    as_of_day: date
    settings: AppSettings
    inputs: AlertInputs


def read_alerts(engine: Engine, as_of_day: date, *, app_settings: AppSettings | None = None,
                customer_ids: Collection[str] | None = None, include_anonymous: bool = False) -> AlertReading:
    """Read every input of the days before `as_of_day` but the health scores."""
    settings = app_settings or _current(engine)
    keys = key_feature_ids(engine, settings.health.key_feature_ids)
    inputs = load_alert_inputs(engine, as_of_day - timedelta(days=1), settings.alerts, key_features=keys,
                               customer_ids=customer_ids, include_anonymous=include_anonymous)
    return AlertReading(as_of_day, settings, inputs)


def evaluate_alerts(engine: Engine, as_of_day: date, *, app_settings: AppSettings | None = None,
                    channels: Mapping[str, Channel] | None = None, customer_ids: Collection[str] | None = None,
                    include_anonymous: bool = False, clock: Callable[[], datetime] | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> AlertRun:
    """Evaluate every customer kind on the days before `as_of_day`, update the alerts, then deliver them."""
    reading = read_alerts(engine, as_of_day, app_settings=app_settings, customer_ids=customer_ids,
                          include_anonymous=include_anonymous)
    return judge(engine, reading, channels=channels, clock=clock, sleep=sleep)


def judge(engine: Engine, reading: AlertReading, *, channels: Mapping[str, Channel] | None = None,
          clock: Callable[[], datetime] | None = None, sleep: Callable[[float], None] = time.sleep,
          fence: Fence = unfenced) -> AlertRun:
    """Add the health scores to a reading, evaluate every customer kind, update the alerts, deliver them.
    `fence` (a sync run's): called first in the transaction that updates the alerts, it refuses the update
    once a newer run has started."""
    now = clock or (lambda: datetime.now(UTC))
    as_of_day, settings, inputs = reading.as_of_day, reading.settings, reading.inputs
    last_day = as_of_day - timedelta(days=1)
    add_health(engine, inputs.customers, last_day)
    # A customer whose Pendo accounts were all unmapped has no usage left (its metrics went with them):
    # no finding at all, so its alerts resolve instead of staying open on data that is gone.
    verdicts = {c: [] if c in inputs.gone else evaluate_customer(d, settings.alerts)
                for c, d in inputs.customers.items()}
    names = sorted(channels or {})
    reaches = {n: c.reaches for n, c in (channels or {}).items() if isinstance(c, RoutedWebhook)}
    with Session(engine) as session, session.begin():
        fence(session.connection())
        counts = reconcile(session, verdicts, today=as_of_day, now=now(), csm_of=inputs.csm_of)
        escalated = plan_escalations(session, names, today=as_of_day, now=now(), days=settings.alerts.escalation_days,
                                     reaches=reaches)
        planned = plan_deliveries(session, names, reaches=reaches)
    stats = None
    if channels:
        stats = deliver(engine, channels, now=now, escalation_days=settings.alerts.escalation_days, sleep=sleep)
    return AlertRun(last_day, len(verdicts), counts, escalated, planned, stats)


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The configured channels: e-mail when SMTP_HOST is set, the webhook when its URL is set."""
    channels: dict[str, Channel] = {}
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        channels["email"] = SmtpChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                                        user=settings.smtp_user, password=password, starttls=settings.smtp_starttls)
    if settings.alert_webhook_url:
        channels["webhook"] = WebhookChannel(settings.alert_webhook_url.get_secret_value())
    return channels


def delivery_channels(settings: Settings, engine: Engine) -> dict[str, Channel]:
    """The configured channels; when CSMs have their own webhooks, the webhook channel routes to them."""
    channels = channels_from_settings(settings)
    try:
        with Session(engine) as session:
            personal = webhook_urls(session, lambda: load_cipher(settings))
    except SecretsError as exc:  # the key went missing: alerts still go out, to the team webhook
        log.warning("CSM webhooks skipped: %s", exc)
        personal = {}
    if personal:
        team = settings.alert_webhook_url.get_secret_value() if settings.alert_webhook_url else None
        channels["webhook"] = RoutedWebhook(team, personal)
    return channels


class AlertsStep:
    """The sync's alerts step (a PostStep): every registered kind judged on the run's last reported day, then
    routing and delivery on the configured channels (none: the in-app panel only).

    Its reading of every input but the health scores is a step of its own, `read_ahead`, that may run
    earlier, once the metrics are written (the pipeline runs it beside the health step). The step then adds
    the new scores to that reading and judges; without a reading of this run, it reads first. Nothing
    between the two steps writes what the reading holds (the health step writes only scores), but for an
    alert a user acts on meanwhile, which the reconcile reads afresh."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings
        self._ahead: tuple[int, AlertReading] | None = None  # a run's id and its reading

    def read_ahead(self, engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        """Read what the alerts judge but the health scores, for this run's alerts step. A reading that fails
        is logged and left to the step, which reads again: the run then fails where it did before the
        reading moved, once the health scores and the Portfolio days are written (where the group runs in
        order, a failure here would have stopped the health step)."""
        self._ahead = None
        try:
            self._ahead = summary.run_id, self._read(engine, summary)
        except Exception:
            log.warning("reading the alerts' inputs ahead failed; the alerts step reads them again", exc_info=True)

    def __call__(self, engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        ahead, self._ahead = self._ahead, None
        reading = ahead[1] if ahead and ahead[0] == summary.run_id else self._read(engine, summary)
        judge(engine, reading, channels=delivery_channels(self.settings, engine) if self.settings else None,
              fence=run_fence(summary.run_id))

    def _read(self, engine: Engine, summary: RunSummary) -> AlertReading:
        return read_alerts(engine, summary.report_last + timedelta(days=1),
                           include_anonymous=self.settings.include_anonymous if self.settings else False)


def make_alerts_step(settings: Settings) -> AlertsStep:
    """The post-metrics sync step that evaluates alerts and delivers them on the configured channels."""
    return AlertsStep(settings)


def alerts_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
    """The post-metrics step without delivery channels (alerts show in the in-app panel only)."""
    AlertsStep()(engine, request, summary)


def _current(engine: Engine) -> AppSettings:
    with Session(engine) as session:
        return current_settings(session)[1]
