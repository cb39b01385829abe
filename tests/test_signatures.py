"""Signatures read from source (common.signatures) against the imported objects' own."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import typing

import pytest

from common import PROJECT_ROOT
from common.explain import METHODS
from common.models import ARCHITECTURES, architecture_class, architecture_location
from common.signatures import NO_LITERAL, source_parameters, yaml_types

YAML_TYPES = (bool, int, float, str, type(None))


def imported_yaml_types(function, name: str) -> list[type]:
    """What ``typing.get_type_hints`` makes of parameter ``name``: its YAML types."""
    hint = typing.get_type_hints(function)[name]
    return [kind for kind in typing.get_args(hint) or (hint,) if kind in YAML_TYPES]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_methods_parameters_and_their_types_are_those_of_its_imported_function(method):
    function = METHODS[method].function
    imported = list(inspect.signature(function).parameters)
    declared = function.parameters()
    assert [parameter.name for parameter in declared] == imported
    for parameter in declared[3:]:
        assert yaml_types(parameter.annotation) == imported_yaml_types(function.__wrapped__,
                                                                        parameter.name)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_an_architectures_constructor_defaults_are_those_of_its_class(arch):
    imported = {name: parameter.default for name, parameter
                in inspect.signature(architecture_class(arch)).parameters.items()}
    declared = {parameter.name: parameter.default
                for parameter in source_parameters(*architecture_location(arch))}
    assert list(declared) == list(imported)
    for name, default in declared.items():
        if default is not NO_LITERAL:
            assert default == imported[name] and type(default) is type(imported[name]), name


def test_every_kind_of_parameter_is_read_in_order(tmp_path, monkeypatch):
    (tmp_path / "declared.py").write_text(textwrap.dedent('''
        from __future__ import annotations
        LIMIT = 3

        def function(a, /, b: int = 2, *rest, c: float | None = None, d: str, e=LIMIT,
                     f=(1, "x"), **options):
            pass

        class Model:
            def __init__(self, width: int, depth: bool = True):
                pass
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    declared = [(parameter.name, parameter.annotation, parameter.default)
                for parameter in source_parameters("declared", "function")]
    assert declared == [("a", None, NO_LITERAL), ("b", "int", 2),
                        ("c", "float | None", None), ("d", "str", NO_LITERAL),
                        ("e", None, NO_LITERAL), ("f", None, (1, "x"))]
    model = [(parameter.name, parameter.default)
             for parameter in source_parameters("declared", "Model")]
    assert model == [("width", NO_LITERAL), ("depth", True)]
    with pytest.raises(KeyError):
        source_parameters("declared", "LIMIT")


@pytest.mark.parametrize(("annotation", "types"), [
    ("int", [int]), ("float | None", [float, type(None)]), ("bool", [bool]),
    ("nn.Module | str | None", [str, type(None)]), ("torch.Tensor", []), (None, []),
    ("str | torch.Tensor", [str]), ("list[int]", []),
])
def test_an_annotation_admits_the_yaml_types_it_names(annotation, types):
    assert yaml_types(annotation) == types


def test_the_registries_and_the_configuration_checks_import_no_torch():
    """What every Snakemake call runs before planning: the checks of the shipped
    configurations against the method, architecture and ImageNet registries."""
    script = textwrap.dedent('''
        import sys
        from papers.config_checks import check_files
        for overlay in ([], ["config/paper.yaml"], ["tests/tiny.yaml"]):
            check_files(overlay)
        print(sorted(module for module in sys.modules if module.split(".")[0] == "torch"))
    ''')
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
