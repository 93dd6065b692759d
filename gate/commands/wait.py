"""`green-gate wait`: hold a workflow until the grid is cleaner, bounded by a maximum wait.

Reads the zone's live intensity from Electricity Maps every poll; plans from its forecast once at
the start. Exits 0 whenever it proceeds (the step never fails a build because the grid is dirty),
and says what it saw in log lines and in the step's outputs. Clock and sleep are injectable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from gate import console, secrets
from gate.carbon import wait as carbon_wait
from gate.carbon.model import ForecastPoint
from gate.config.budget import DEFAULT_TOKEN_ENV
from gate.config.load import load_budget
from gate.errors import CarbonSourceUnavailable, ConfigError, ExitCode, GateError
from gate.github import actions

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class WaitOptions:
    max_wait_s: float
    below_g_per_kwh: float | None = None
    zone: str | None = None  # None: the budget's first electricitymaps source
    poll_s: float = 300.0
    use_forecast: bool = True
    token_env: str | None = None  # None: the budget source's, else ELECTRICITYMAPS_API_TOKEN
    timeout_s: float = 10.0
    budget_path: Path | None = None
    on_unavailable: Literal["proceed", "fail"] = "proceed"


def run(
    opts: WaitOptions,
    *,
    env: Mapping[str, str],
    cwd: Path,
    clock: Clock | None = None,
    sleep: Sleep = time.sleep,
    log: Callable[[str], None] | None = None,
) -> int:
    log = log or console.log
    clock = clock or (lambda: datetime.now(UTC))
    try:
        return _wait(opts, env, cwd, clock, sleep, log)
    except GateError as exc:
        log(f"error: {exc.render()}")
        if actions.in_actions(env):
            actions.annotate("error", exc.message, file=exc.file, line=exc.line, title=exc.title)
        return int(exc.exit_code)
    finally:
        secrets.activate(None)


def _wait(
    opts: WaitOptions, env: Mapping[str, str], cwd: Path, clock: Clock, sleep: Sleep, log: Callable[[str], None]
) -> int:
    from gate.carbon import electricitymaps

    zone, token_env, timeout_s = _source(opts, cwd)
    if opts.below_g_per_kwh is None and not opts.use_forecast:
        raise ConfigError(
            "nothing to wait for: no --below threshold and the forecast is off",
            hint="pass --below G (gCO2eq/kWh), or drop --no-forecast to wait for the forecast's cleanest hour",
        )
    started = clock()
    outputs = {"zone": zone, "reason": "unavailable", "waited_s": "0"}
    # The budget may name its own token variable: redact its value too, from every line written.
    secrets.activate(secrets.Secrets.from_env(env, [token_env]))
    token = env.get(token_env, "")
    client = electricitymaps.Client(
        token,
        base_url=env.get(electricitymaps.BASE_URL_ENV) or electricitymaps.DEFAULT_BASE_URL,
        timeout_s=timeout_s,
    )
    threshold = opts.below_g_per_kwh
    goal = f"intensity < {threshold:g} gCO2eq/kWh" if threshold is not None else "the forecast's cleanest hour"
    log(
        f"wait: zone {zone}: proceed at {goal}, waiting at most {carbon_wait.span(_delta(opts.max_wait_s))} "
        f"(until {_hhmm(started, opts.max_wait_s)}), checking every {carbon_wait.span(_delta(opts.poll_s))}"
    )
    if not token:
        return _unavailable(opts, env, outputs, f"${token_env} is not set, so there is no API token", log)

    forecast: tuple[ForecastPoint, ...] = ()
    if opts.use_forecast:
        try:
            horizon = electricitymaps.horizon_for(opts.max_wait_s)
            forecast = client.forecast(zone, horizon_hours=horizon).points
        except electricitymaps.ApiError as exc:
            if exc.status in (401, 403):
                return _unavailable(opts, env, outputs, f"Electricity Maps: {exc.message}", log)
            log(f"wait: warning: no forecast ({exc.message}); waiting on the live value only")
    the_plan = carbon_wait.plan(started, opts.max_wait_s, threshold, forecast)
    if the_plan.target is not None:
        which = "first hour under the threshold" if the_plan.target_kind == "under_threshold" else "cleanest hour"
        log(
            f"wait: forecast: the {which} within the wait starts {the_plan.target.strftime('%Y-%m-%dT%H:%MZ')} "
            f"at {the_plan.target_g_per_kwh:g} gCO2eq/kWh"
        )
        outputs["forecast_at"] = the_plan.target.strftime("%Y-%m-%dT%H:%M:%SZ")
        outputs["forecast_g_per_kwh"] = f"{the_plan.target_g_per_kwh:g}"
    elif opts.use_forecast and threshold is None:
        return _unavailable(opts, env, outputs, "the forecast has no hour within the wait", log)

    seen_any = False
    while True:
        now = clock()
        live: float | None = None
        try:
            reading = client.latest(zone)
            live, seen_any = reading.g_per_kwh, True
            outputs.update(intensity_g_per_kwh=f"{live:g}", intensity_datetime=reading.datetime)
            estimated = ", estimated" if reading.is_estimated else ""
            log(f"wait: {now.strftime('%H:%M:%SZ')} {zone}: {live:g} gCO2eq/kWh (for {reading.datetime}{estimated})")
        except electricitymaps.ApiError as exc:
            if not seen_any and the_plan.target is None:
                return _unavailable(opts, env, outputs, f"Electricity Maps: {exc.message}", log)
            log(f"wait: warning: no live value ({exc.message}); going on with the plan")
        decision = carbon_wait.step(now, the_plan, live, opts.poll_s)
        if decision.proceed:
            waited_s = (now - started).total_seconds()
            outputs.update(reason=decision.reason or "", waited_s=f"{waited_s:.0f}")
            message = f"proceeding: {decision.message} (waited {carbon_wait.span(_delta(waited_s))})"
            log(f"wait: {message}")
            _finish(env, outputs, message)
            return int(ExitCode.OK)
        log(f"wait: not yet; next check in {carbon_wait.span(_delta(decision.sleep_s))}")
        sleep(decision.sleep_s)


def _source(opts: WaitOptions, cwd: Path) -> tuple[str, str, float]:
    """(zone, token env var name, timeout) from the options, else from the budget's electricitymaps source."""
    if opts.zone:
        return opts.zone, opts.token_env or DEFAULT_TOKEN_ENV, opts.timeout_s
    path = opts.budget_path or cwd / "green-budget.yml"
    if opts.budget_path is None and not path.is_file():
        raise ConfigError(
            "no zone to watch: pass --zone (e.g. DE, FR, US-CAL-CISO)",
            hint="or run where green-budget.yml names an electricitymaps source, or pass --budget PATH",
        )
    budget = load_budget(path)
    for source in budget.carbon.sources:
        if source.provider == "electricitymaps" and source.zone:
            return source.zone, opts.token_env or source.token_env, source.timeout_s
    raise ConfigError(
        "no zone to watch: the budget file has no electricitymaps source",
        hint="pass --zone, or add {provider: electricitymaps, zone: ...} to carbon.sources",
        file=str(path),
        line=budget.line_of("carbon"),
    )


def _unavailable(
    opts: WaitOptions, env: Mapping[str, str], outputs: dict[str, str], why: str, log: Callable[[str], None]
) -> int:
    if opts.on_unavailable == "fail":
        raise CarbonSourceUnavailable(
            f"cannot read the grid's carbon intensity: {why}",
            hint="fix the token or zone, or use --on-unavailable proceed to go on without waiting",
        )
    message = f"proceeding without waiting: cannot read the grid's carbon intensity ({why})"
    log(f"wait: warning: {message}")
    if actions.in_actions(env):
        actions.annotate("warning", message, title="green-gate wait")
    outputs["reason"] = "unavailable"
    _finish(env, outputs, message)
    return int(ExitCode.OK)


def _finish(env: Mapping[str, str], outputs: dict[str, str], message: str) -> None:
    actions.set_outputs(env, outputs)
    sys.stdout.write(secrets.redact(f"green-gate wait: {message}\n"))
    sys.stdout.flush()


def _delta(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _hhmm(start: datetime, plus_s: float) -> str:
    return (start + _delta(plus_s)).strftime("%Y-%m-%dT%H:%MZ")
