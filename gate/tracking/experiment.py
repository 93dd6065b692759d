"""An experiment's name and the tags every green-gate experiment carries. Pure."""

from __future__ import annotations

import re

from gate.tracking.names import TAG_NOTE


def experiment_name(template: str, benchmark: str, repository: str | None) -> str:
    """The budget's `mlflow.experiment` with `{benchmark}` and `{repository}` filled in."""
    return template.replace("{repository}", repository or "local").replace("{benchmark}", benchmark)


def repository_from_remote(url: str | None) -> str | None:
    """`owner/name` from a git remote URL (https, ssh or scp-like), without credentials or `.git`."""
    if not url:
        return None
    text = url.strip().rstrip("/")
    text = text[:-4] if text.endswith(".git") else text
    match = re.search(r"[:/]([^/:@]+/[^/:@]+)$", text)
    return match.group(1) if match else None


# MLflow 3's UI opens in its GenAI view (traces, empty for green-gate's runs) unless told otherwise.
# Earlier 3.x releases read the experiment's kind tag (still set); recent ones (3.17 read here) take
# the view from the link's `workflowType` query, else the browser's last choice, else GenAI: the links
# the gate writes carry the query.
UI_CLASSIC_VIEW_QUERY = "workflowType=machine_learning"
TAG_EXPERIMENT_KIND = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
EXPERIMENT_DESCRIPTION = """\
**green-gate energy runs** for one benchmark: one run per `green-gate check`, each figure the
geometric mean of its measured repeats (quality metrics: the median).

The run name carries the verdict and the energy per item (the runs table shows Run Name, Created,
Dataset, Duration, Source and Models by default; metrics and tags only once chosen). Open this
experiment in the classic view: add `?workflowType=machine_learning` to its link, or pick "Machine
learning" in the sidebar.

Columns worth adding in the runs table (Columns button):
- metrics `energy_per_prediction_j`, `energy_j`, `emissions_g`, `duration_s`, `mean_power_w`
  (per repeat as steps of `repeat.*`);
- tags `green_gate.verdict` (pass, warn, fail, error), `green_gate.baseline_eligible`,
  `green_gate.provenance` (measured or estimated), `green_gate.hardware_id`,
  `mlflow.source.git.branch`.

The run name reads `<commit> <branch or PR#n> <benchmark> <verdict> <J per item>`, e.g.
`9f2c4e1 main digits pass 11 mJ/pred`.

Baselines: a check compares with the latest finished run of the baseline branch on hardware with
the same `green_gate.hardware_id` whose `green_gate.baseline_eligible` is `true` (runs from pull
requests and runs over budget never are). A pin (experiment tag `green_gate.pin.<branch>`, set by
`green-gate baseline pin`) wins over the latest run.
"""


def experiment_tags() -> dict[str, str]:
    """The tags every green-gate experiment carries: its kind and its description."""
    return {TAG_EXPERIMENT_KIND: EXPERIMENT_KIND, TAG_NOTE: EXPERIMENT_DESCRIPTION}
