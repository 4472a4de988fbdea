"""Which project files a build-time figure depends on, read from its module's source."""

import textwrap

from fieldguide import ROOT
from fieldguide.cache import figure_dependencies

RELU = ROOT / "snippets" / "activations" / "relu.py"
SIGMOID = ROOT / "snippets" / "activations" / "sigmoid.py"
MSE = ROOT / "snippets" / "losses" / "mse.py"

MODULE = textwrap.dedent("""
    import numpy as np

    from snippets.activations import sigmoid as sig
    from snippets.activations.relu import relu as relu_fn
    from snippets.losses.mse import mse_loss

    SQUASH = sig.sigmoid
    X = np.linspace(-1, 1, 5)


    def _helper():
        return relu_fn(X)


    def uses_helper():
        return _helper()


    def uses_constant():
        return SQUASH(X)


    def uses_numpy_only():
        return np.tanh(X)


    def uses_mse(target=None):
        return mse_loss(X, X if target is None else target)
""")


def dependencies(tmp_path, source, function):
    module = tmp_path / "figure_module.py"
    module.write_text(textwrap.dedent(source))
    files = set(figure_dependencies(module, function))
    assert module in files  # the module's own code always counts
    return files


def test_follows_helpers_and_constants_to_the_imports_they_use(tmp_path):
    assert RELU in dependencies(tmp_path, MODULE, "uses_helper")
    assert SIGMOID not in dependencies(tmp_path, MODULE, "uses_helper")
    assert SIGMOID in dependencies(tmp_path, MODULE, "uses_constant")
    assert RELU not in dependencies(tmp_path, MODULE, "uses_constant")
    assert MSE in dependencies(tmp_path, MODULE, "uses_mse")


def test_a_function_using_no_project_code_depends_on_its_module_only(tmp_path):
    files = dependencies(tmp_path, MODULE, "uses_numpy_only")
    assert not {RELU, SIGMOID, MSE} & files


def test_what_an_imported_module_imports_counts_too(tmp_path):
    # Snippets import no other snippets, but project modules can: a figure built on another
    # figure module depends on every snippet that module imports.
    source = """
        from fieldguide.figures.activations import tanh as other

        def curve():
            return other.tanh()
    """
    files = dependencies(tmp_path, source, "curve")
    tanh = ROOT / "snippets" / "activations" / "tanh.py"
    assert {ROOT / "fieldguide" / "figures" / "activations" / "tanh.py", tanh, SIGMOID} <= files


def test_when_in_doubt_every_import_counts(tmp_path):
    unknown = dependencies(tmp_path, MODULE, "no_such_function")
    assert {RELU, SIGMOID, MSE} <= unknown
    wildcard = MODULE + "\nfrom snippets.losses.mae import *\n"
    assert {RELU, SIGMOID, MSE} <= dependencies(tmp_path, wildcard, "uses_numpy_only")


def test_top_level_statements_count_for_every_function(tmp_path):
    source = MODULE + "\nif True:\n    sig.sigmoid(X)\n"
    assert SIGMOID in dependencies(tmp_path, source, "uses_numpy_only")
