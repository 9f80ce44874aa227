"""Every place that writes text to a terminal goes through the one rule (grafient_tui/untrusted.py):
text from anywhere (an API, the database, a config file, argv) is made visible, and never read as
markup. This test reads the source: a new sink that skips the rule fails it, until the rule is
applied or the call is added, with its reason, to the reviewed list below.

What counts as a sink: print() and writes to sys.stdout/sys.stderr, ArgumentParser.exit(); the app's
notify(), Static/Label/Button contents, widget.update(), Text() and Content() (and Content's
from_markup and assemble), DataTable cells and column labels, the command palette's commands and
hits, panic(); and the markup-capable attributes (title, sub_title, border_title, border_subtitle,
tooltip, a column's label).

What is safe:
- a literal, or an f-string whose every value is safe;
- text through the rule: visible(), one_line(), sentence(), sentence_of(), scrub(), scrub_known();
- text built from numbers only: format_usd(), money(), plural(), count(), tokens(), ago(), change(),
  share(), and a value given a format spec ({x:,}, {x:g});
- output builders that apply the rule to every cell themselves (format_table, render_table, render_days_table,
  render_csv, render_focus, json.dumps(ensure_ascii=True), check_line, gauge_line, render_metrics): tested for it
  below (render_focus in tests/cli/test_focus.py, render_metrics in tests/cli/test_metrics.py).
A markup-capable sink (a Textual widget or the palette given a str) takes a literal, numbers, or a
Content/Text object of safe text: text through the rule can still hold `[` (markup), so it must be
wrapped, never passed as a str.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "grafient_tui"

RULE = {"visible", "one_line", "sentence", "sentence_of", "scrub", "scrub_known", "quoted"}
NUMBERS = {"format_usd", "money", "plural", "count", "tokens", "ago", "change", "share", "period_words", "amount"}
BUILDERS = {
    "format_table",
    "render_table",
    "render_days_table",
    "render_csv",
    "render_focus",
    "dumps",
    "check_line",
    "gauge_line",
}
BUILDERS |= {"render_metrics"}  # every label value through the rule: tests/cli/test_metrics.py
WRAPPERS = {"Content", "Text"}
# The app's own: they apply the rule and build Content/Text (never markup), or a toast without markup.
RULED = {"literal", "literal_cell", "toast"}
# detail.py's cell builders, each made by literal_cell (test_the_cell_builders_apply_the_rule).
RULED |= {"right", "limit_cell", "total_label", "gauge_line", "basis_lines"}
RULED |= {"pattern"}  # chart_layout's NO_COLOR fill: one of its literal PATTERNS, never outside text
PLAIN_SINKS = {"print", "write", "exit"}  # a terminal, no markup
MARKUP_SINKS = {"Static", "Label", "Button", "update", "add_row", "add_column", "add_columns", "panic"}
PALETTE = {"SystemCommand", "Hit", "DiscoveryHit"}
MARKUP_ATTRIBUTES = {"border_title", "border_subtitle", "tooltip", "label"}
PLAIN_ATTRIBUTES = {"title", "sub_title"}  # the Header shows them as Content(title), never markup

# Calls whose text is not through the rule by name but is known to be safe, each with its reason.
# Keyed by file and the call's first source line (stripped). Review before adding: the value must
# never hold text from outside the process, or it must be made visible where it is built.
REVIEWED: dict[tuple[str, str], str] = {
    (
        "grafient_tui/tui/shown.py",
        "node.notify(",
    ): "the one toast: every line and the title through visible, markup=False",
    (
        "grafient_tui/tui/commands.py",
        "yield SystemCommand(command.palette, command.palette_help, callback)",
    ): "the palette's fixed commands: literals of this code's command table (COMMANDS)",
    (
        "grafient_tui/tui/commands.py",
        "yield SystemCommand(title, help_text, partial(app.post_message, PeriodRequested(days)))",
    ): "a period's title and help: numbers of PERIODS, formatted with {:d}",
    (
        "grafient_tui/tui/commands.py",
        "yield SystemCommand(title, help_text, partial(app.post_message, PeriodRequested(month=choice.key)))",
    ): "a calendar month's title and help: spans.py's label (month abbreviations, years) and ISO dates",
    (
        "grafient_tui/tui/commands.py",
        "yield SystemCommand(title, help_text, partial(app.post_message, PlanRequested(plan)))",
    ): "a plan's title and help: a PLANS key of this code, and a number",
    (
        "grafient_tui/tui/commands.py",
        "yield DiscoveryHit(command.title, command.callback, help=command.help)",
    ): "the system commands re-listed in order (SystemCommandsInOrder): those reviewed above, and Textual's",
    (
        "grafient_tui/tui/commands.py",
        "yield DiscoveryHit(self._display(title, help_text), callback, text=visible(title))",
    ): ("the display is Content made by literal(); text is only matched, never shown"),
    ("grafient_tui/tui/commands.py", "yield Hit(score, self._display(title, help_text), callback, text=shown)"): (
        "the display is Content made by literal(); text is only matched, never shown"
    ),
    (
        "grafient_tui/tui/screens/detail.py",
        'table.add_row(*[cells.get(str(column.value), "") for column in table.columns], key=key)',
    ): ("detail.py's add_row by column key: its callers' cells are checked where they are built"),
    ("grafient_tui/tui/screens/detail.py", "add_row(table, row_key, **cells)"): (
        "the models table's rows: Text cells made by _model_cells, total_label and right (literal_cell, checked "
        "there), the model's name cut as Text by fit_model_names"
    ),
    ("grafient_tui/tui/screens/models.py", "add_row(table, row_key, **cells)"): (
        "the Models view's rows: every cell made by literal_cell or right (through the rule) in the dict "
        "comprehension just above, from text _rows built (model keys and raw names through visible)"
    ),
    ("grafient_tui/tui/widgets/chart.py", 'self.update(Content("\\n").join(lines))'): (
        "the legend's lines join Content entries, each built with Content.assemble in show_stack (checked there)"
    ),
}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class Scope:
    """The simple assignments (`name = value`) of the function a sink is in, and the module's constants
    (`NAME = "literal"`): a name is safe when every value it is given there is."""

    def __init__(self, function: ast.AST | None, module: ast.Module | None = None) -> None:
        self.values: dict[str, list[ast.expr | None]] = {}
        self._checking: set[str] = set()
        for node in module.body if module is not None else ():
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.values.setdefault(target.id, []).append(node.value)
        if function is None:
            return
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.values.setdefault(target.id, []).append(node.value)
                    elif isinstance(target, ast.Tuple):  # unpacking: not followed
                        for element in target.elts:
                            if isinstance(element, ast.Name):
                                self.values.setdefault(element.id, []).append(None)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
                self.values.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, (ast.For, ast.comprehension)):
                for element in ast.walk(node.target):
                    if isinstance(element, ast.Name):
                        self.values.setdefault(element.id, []).append(None)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                    self.values.setdefault(arg.arg, []).append(None)

    def safe(self, name: str, *, markup: bool) -> bool:
        values = self.values.get(name)
        if name in self._checking:
            return True  # `x = f(x, ...)`: x is safe when its other values and f are
        if not values:
            return False
        self._checking.add(name)
        try:
            return all(value is not None and _safe(value, markup=markup, scope=self) for value in values)
        finally:
            self._checking.discard(name)


def _safe(node: ast.expr | None, *, markup: bool, scope: Scope | None = None) -> bool:
    """Whether `node`, given to a sink (`markup`: one that reads a str as markup), is safe."""
    if node is None:
        return True
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name) and scope is not None:
        return scope.safe(node.id, markup=markup)
    if isinstance(node, ast.JoinedStr):
        return all(
            _safe(part.value, markup=markup, scope=scope) or part.format_spec is not None
            for part in node.values
            if isinstance(part, ast.FormattedValue)
        )
    if isinstance(node, ast.IfExp):
        return _safe(node.body, markup=markup, scope=scope) and _safe(node.orelse, markup=markup, scope=scope)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe(node.left, markup=markup, scope=scope) and _safe(node.right, markup=markup, scope=scope)
    if isinstance(node, ast.Tuple):  # Content.assemble's (text, style): the style is no text
        return not node.elts or _safe(node.elts[0], markup=markup, scope=scope)
    if isinstance(node, ast.List):
        return all(_safe(e, markup=markup, scope=scope) for e in node.elts)
    if isinstance(node, ast.Starred):
        return _safe(node.value, markup=markup, scope=scope)
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if name in NUMBERS or name in RULED:
            return True
        if name in RULE or name in BUILDERS:
            return not markup
        if name in WRAPPERS:
            return all(_safe(a, markup=False, scope=scope) for a in node.args[:1])
        if name == "from_markup":  # the template is ours (a literal or a module constant), the values safe
            template = node.args[0] if node.args else None
            literal_template = isinstance(template, ast.Constant) or (
                isinstance(template, ast.Name) and scope is not None and scope.safe(template.id, markup=True)
            )
            return literal_template and all(_safe(k.value, markup=False, scope=scope) for k in node.keywords)
        if name == "assemble":
            return all(_safe(a, markup=False, scope=scope) for a in node.args)
        if name == "join" and isinstance(node.func, ast.Attribute):
            return isinstance(node.func.value, ast.Constant) and all(
                _safe(a, markup=markup, scope=scope) for a in node.args
            )
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        return _safe(node.elt, markup=markup, scope=scope)
    return False


def _text_args(call: ast.Call, name: str) -> list[ast.expr]:
    if name == "notify":
        args = call.args[:1] + [k.value for k in call.keywords if k.arg in ("message", "title")]
    elif name in PALETTE:
        args = call.args[:2] + [k.value for k in call.keywords if k.arg in ("help", "text")]
    elif name == "exit":
        args = call.args[1:2] + [k.value for k in call.keywords if k.arg == "message"]
    elif name in ("Static", "Label", "Button", "update", "panic"):
        args = call.args[:1]
    elif name == "add_row":  # DataTable's (cells), and detail.py's add_row(table, key, **cells)
        positional = call.args[2:] if isinstance(call.func, ast.Name) else call.args
        args = list(positional) + [k.value for k in call.keywords if k.arg != "key"]
    else:
        args = list(call.args)
    return [a.value if isinstance(a, ast.Starred) else a for a in args]


def _is_sink(call: ast.Call, name: str, path: Path) -> bool:
    if name == "write":
        target = ast.unparse(call.func)
        return target.startswith(("sys.stdout", "sys.stderr"))
    if name == "exit":
        return path.name == "cli.py" and ast.unparse(call.func) == "self.exit"
    if name in ("update", "add_row", "add_column", "add_columns", "panic"):
        return "tui" in path.parts
    return name in PLAIN_SINKS | MARKUP_SINKS | PALETTE | {"notify", "Text", "Content", "from_markup", "assemble"}


def _markup(call: ast.Call, name: str) -> bool:
    if name == "notify":
        return not any(
            k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False for k in call.keywords
        )
    return name in MARKUP_SINKS or name in PALETTE


def sink_calls() -> list[tuple[str, int, str, bool]]:
    """(file, line, first source line, safe) of every sink in grafient_tui."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        rel = str(path.relative_to(ROOT.parent))
        tree = ast.parse(source)
        enclosing: dict[ast.AST, ast.AST] = {}
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(function):
                    enclosing[inner] = function  # the innermost wins: inner functions are walked later
        scopes: dict[ast.AST | None, Scope] = {}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Call, ast.Assign)):
                continue
            function = enclosing.get(node)
            scope = scopes.get(function)
            if scope is None:
                scope = scopes[function] = Scope(function, tree)
            if isinstance(node, ast.Call):
                name = _name(node.func)
                if not _is_sink(node, name, path):
                    continue
                markup = _markup(node, name)
                if name in ("Text", "Content"):
                    safe = all(_safe(a, markup=False, scope=scope) for a in node.args[:1])
                elif name in ("from_markup", "assemble"):
                    safe = _safe(node, markup=False, scope=scope)
                else:
                    safe = all(_safe(a, markup=markup, scope=scope) for a in _text_args(node, name))
                found.append((rel, node.lineno, lines[node.lineno - 1].strip(), safe))
            elif isinstance(node, ast.Assign) and "tui" in path.parts:
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr in MARKUP_ATTRIBUTES | PLAIN_ATTRIBUTES
                        and not (target.attr == "label" and ast.unparse(target.value) == "self")
                    ):
                        safe = _safe(node.value, markup=target.attr in MARKUP_ATTRIBUTES, scope=scope)
                        found.append((rel, node.lineno, lines[node.lineno - 1].strip(), safe))
    return found


def test_the_scan_finds_the_sinks() -> None:
    """A scan that finds nothing proves nothing: the app and the CLI have dozens of sinks."""
    calls = sink_calls()
    assert len(calls) > 100
    assert {rel for rel, *_ in calls} >= {
        "grafient_tui/cli.py",
        "grafient_tui/tui/app.py",
        "grafient_tui/tui/screens/detail.py",
    }


def test_every_sink_goes_through_the_rule() -> None:
    unsafe = [
        f"{rel}:{line}: {text}" for rel, line, text, safe in sink_calls() if not safe and (rel, text) not in REVIEWED
    ]
    assert unsafe == [], "text reaches a terminal without the rule (untrusted.visible, never markup):\n" + "\n".join(
        unsafe
    )


def test_the_reviewed_list_holds_no_stale_entry() -> None:
    present = {(rel, text) for rel, _, text, _ in sink_calls()}
    stale = [f"{rel}: {text}" for rel, text in REVIEWED if (rel, text) not in present]
    assert stale == []


@pytest.mark.parametrize("hostile", ["\x1b]52;c;ZXZpbA==\x07", "\x1b[2J", "a\u202eb", "x\ufe0f", "\u3164"])
def test_the_builders_apply_the_rule_to_every_cell(hostile: str) -> None:
    from grafient_tui.tables import format_table
    from grafient_tui.untrusted import visible

    table = format_table(["A", "B"], [[hostile, "1"]])
    assert hostile not in table and visible(hostile) in table


@pytest.mark.parametrize("hostile", ["\x1b[2J", "[@click=app.bell]Ops", "Eng [/]", "a\u202eb", "x\ufe0f"])
def test_the_cell_builders_apply_the_rule(hostile: str) -> None:
    from grafient_tui.tui.screens.detail import right
    from grafient_tui.tui.shown import literal, literal_cell
    from grafient_tui.untrusted import visible

    for built in (literal(hostile).plain, literal_cell(hostile).plain, right(hostile).plain):
        assert built == visible(hostile)  # the characters as text: nothing parsed as markup
    assert literal(hostile).spans == [] and literal_cell(hostile).spans == []


@pytest.mark.parametrize("estimated", [True, False], ids=["estimate", "billed"])
@pytest.mark.parametrize("hostile", ["\x1b[2J", "\x1b]52;c;ZXZpbA==\x07", "a\u202eb", "x\ufe0f"])
def test_the_cost_basis_lines_apply_the_rule_to_the_stored_note(hostile: str, estimated: bool) -> None:
    """A cost basis note is read from the store (an integration's cost_basis): the detail header's
    lines about it show it through the rule (they go to Content.assemble, never read as markup)."""
    from grafient_tui.estimates import Basis
    from grafient_tui.tui.screens.detail import basis_lines
    from grafient_tui.untrusted import visible

    lines = basis_lines(Basis(estimated=estimated, note=hostile))
    texts = [part[0] if isinstance(part, tuple) else part for part in lines]
    assert visible(hostile) in texts and hostile not in texts
