"""The Snakemake object a rule's script runs with, under Snakemake or by hand.

Under Snakemake, a script finds the object Snakemake injected. Run by hand, for
debugging one job, it builds the same object from the workflow (as PyPSA-Eur's
``mock_snakemake`` does)::

    python -m papers.dxai.scripts.table1                      # the rule using this script
    python -m papers.dxai.scripts.train dxai_train dataset=cars arch=resnet18 \\
        variant=full seed=0                                   # a rule and its wildcards
    python -m workflow.scripts.make_dataset make_dataset dataset=peppers \\
        --configfile tests/tiny.yaml                        # two rules use this script

The job then reads the inputs, params and configuration it would read under Snakemake
and writes its outputs, log and provenance records as it would there. Its inputs must
exist: this runs one job, not the jobs before it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import PROJECT_ROOT


def snakemake_object() -> Any:
    """The running script's Snakemake object: the one Snakemake injected, or, for a script
    run by hand, one built from the workflow with the command line's rule and wildcards."""
    script = sys.modules["__main__"]
    injected = getattr(script, "snakemake", None)
    if injected is not None:
        return injected
    return job_for_script(Path(script.__file__), sys.argv[1:])


def _arguments(script: Path, argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m {_module_name(script)}",
        description="Run this rule's job by hand, as Snakemake would run it.")
    parser.add_argument("words", nargs="*", metavar="[rule] [wildcard=value ...]",
                        help="the rule (needed only where several rules use this script) "
                             "and the job's wildcards")
    parser.add_argument("--configfile", action="append", default=[],
                        help="a config file laid over config/config.yaml, as Snakemake's")
    return parser.parse_args(list(argv))


def _module_name(script: Path) -> str:
    return ".".join(script.resolve().relative_to(PROJECT_ROOT).with_suffix("").parts)


def job_for_script(script: Path, argv: Sequence[str]) -> Any:
    """The Snakemake object of the job of ``script``'s rule with the wildcards in ``argv``
    (``[rule] [name=value ...] [--configfile FILE ...]``), in the project's folder, which
    becomes the working directory as under Snakemake."""
    arguments = _arguments(script, argv)
    rule_names = [word for word in arguments.words if "=" not in word]
    wildcards = dict(word.split("=", 1) for word in arguments.words if "=" in word)
    if len(rule_names) > 1:
        raise SystemExit(f"give one rule, not {rule_names}")
    os.chdir(PROJECT_ROOT)
    with _loaded_workflow(arguments.configfile) as workflow:
        rule = _rule_of(workflow, script.resolve(), rule_names[0] if rule_names else None)
        return _snakemake_object(workflow, rule, wildcards)


@contextlib.contextmanager
def _loaded_workflow(configfiles: Sequence[str]):
    """The project's workflow as Snakemake parses it, configuration checks included."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
    )

    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(), storage_settings=StorageSettings(),
            config_settings=ConfigSettings(configfiles=[Path(file) for file in configfiles]),
            snakefile=PROJECT_ROOT / "Snakefile", workdir=PROJECT_ROOT)
        workflow_api.dag(dag_settings=DAGSettings())  # the DAG settings a job needs
        yield workflow_api._workflow


def _rule_of(workflow: Any, script: Path, name: str | None) -> Any:
    """The rule ``name``, which must run ``script``; without a name, the one rule that
    does."""
    using = [rule for rule in workflow.rules
             if rule.script is not None and _script_of(rule).resolve() == script]
    names = sorted(rule.name for rule in using)
    if name is None and len(using) == 1:
        return using[0]
    if name is None:
        raise SystemExit(f"{len(using)} rules run {script.name} ({', '.join(names)}): "
                         f"name one")
    if name not in names:
        raise SystemExit(f"rule {name!r} does not run {script.name} (rules that do: "
                         f"{', '.join(names) or 'none'})")
    return workflow.get_rule(name)


def _snakemake_object(workflow: Any, rule: Any, wildcards: dict[str, str]) -> Any:
    """What Snakemake injects into the script of ``rule``'s job with ``wildcards``."""
    from snakemake.dag import DAG
    from snakemake.jobs import Job
    from snakemake.script import Snakemake

    expected = sorted(rule.wildcard_names)
    if sorted(wildcards) != expected:
        raise SystemExit(f"rule {rule.name} takes the wildcards {expected or 'none'}, not "
                         f"{sorted(wildcards) or 'none'}: give each as name=value")
    job = Job(rule, DAG(workflow, rules=[rule]), wildcards_dict=wildcards)
    return Snakemake(job.input, job.output, job.params, job.wildcards, job.threads,
                     job.resources, job.log, workflow.config, rule.name, None,
                     scriptdir=_script_of(rule).parent)


def _script_of(rule: Any) -> Path:
    """The script a rule runs; Snakemake holds it relative to the rule's file."""
    return Path(rule.basedir.get_path_or_uri(secret_free=True)) / rule.script
