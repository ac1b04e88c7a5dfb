"""No two product modules import each other, even through others, and even from inside a
function: every arrow of the import graph points downward (README "How a call becomes a
pop"). A loop hidden in a function body crashes nothing; it only hides which way the code
depends, and the next import at the top of a module turns it into a crash."""

from __future__ import annotations

import ast

from .imports import cycle_path, import_cycles, import_graph, imports_of, product_modules


def test_the_product_modules_import_one_another_without_a_loop():
    graph = import_graph()
    loops = [" → ".join(cycle_path(graph, component)) for component in import_cycles(graph)]
    assert not loops, "import loops:\n" + "\n".join(loops)


def test_imports_inside_functions_count(tmp_path):
    """The checker sees an import in a function body, and a relative one, as an edge."""
    (tmp_path / "a.py").write_text("def f():\n    from crm_cti.b import thing\n")
    (tmp_path / "c.py").write_text("from .b import thing\n")
    known = {"crm_cti.a", "crm_cti.b", "crm_cti.c"}
    assert imports_of("crm_cti.a", tmp_path / "a.py", known) == {"crm_cti.b"}
    assert imports_of("crm_cti.c", tmp_path / "c.py", known) == {"crm_cti.b"}
    graph = {"crm_cti.a": {"crm_cti.b"}, "crm_cti.b": {"crm_cti.c"}, "crm_cti.c": {"crm_cti.a"}}
    assert import_cycles(graph) == [["crm_cti.a", "crm_cti.b", "crm_cti.c"]]
    assert cycle_path(graph, ["crm_cti.a", "crm_cti.b", "crm_cti.c"]) == [
        "crm_cti.a", "crm_cti.b", "crm_cti.c", "crm_cti.a"]


def test_every_product_module_parses_and_is_seen():
    modules = product_modules()
    assert "crm_cti.telephony.tracker" in modules and "crm_cti.celery" in modules
    for path in modules.values():
        ast.parse(path.read_text())
