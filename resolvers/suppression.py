"""Disclosure control (standards 13; research/domain.md §5): no count of 1 to 3 is served, and
no suppressed count can be recovered from anything served.

Every report is a slice or a margin of one *lattice* of tables over the same units: each axis
(setting, the period's months, one or two dimensions) has levels from its total (level 0) to
its finest keys, and a table is one level per axis. A coarser table's cell is the sum of the
finer cells it groups (a *line*), except along an axis whose keys overlap (hard-to-reach
groups: a family may be in two). Tables are suppressed coarsest first, each from its own counts
and the already-fixed patterns of the tables below it. A finer line whose total is fixed below
can leave a hidden cell determined that no cell of its table can protect (5 = "<4" + "*" pins
the 1): then the total is hidden too and the tables above it suppressed again, until stable.
That happens only along *closed* axes, those every lattice that holds the total builds whole
(the setting): so a table still looks the same in every report that serves it, and differencing
two reports meets the same suppressed cells. Along an open axis (a report's own dimension, whose
margins other reports serve without it) the lattice never hides a total: a total that a split
would give away is hidden ahead instead, from counts every report that holds it computes alike
(`exposed_totals`, passed to `Lattice.of` as `forced`).

For each table: PRIMARY marks every count of 1 to 3, and every part of a total marked PRIMARY,
zeros too (domain.md §5.1 rule 3); then, until stable, a line with exactly one hidden member
hides its smallest shown non-zero cell of this table (SECONDARY); and an audit hides more
wherever the lines of the table's down-set still determine a hidden non-zero cell — exactly
(the hidden cell's unit vector lies in the row space of the lines' equations) or by bounds
(PRIMARY is known to lie in 1..3, or 0..3 as a part of a total under 4; SECONDARY is 0 or at
least 4; and that pins it).
"""

import random
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice, product

THRESHOLD = 4  # counts 1..THRESHOLD-1 are suppressed (standards: "less than 4")


class TooFine(Exception):
    """The lattice would hold more than MAX_CELLS cells."""


class Reason(StrEnum):
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"


PRIMARY, SECONDARY = Reason.PRIMARY, Reason.SECONDARY
PRIMARY_TOKEN, SECONDARY_TOKEN = "<4", "*"
MAX_CELLS = 10_000  # a lattice past this takes minutes of CPU to suppress (measured at 10,000 families)
PATIENCE = 3  # audit rounds of one complement per open cell before a table hides in bulk
_PRIME = (1 << 61) - 1  # the audit's rank test runs modulo this prime: exact, no rounding
_UNBOUNDED = 1 << 62

Table = tuple[int, ...]  # one level per axis
Key = tuple[str | None, ...]  # one key per axis, None at level 0
Cell = tuple[Table, Key]
Atoms = Mapping[frozenset[int], Mapping[Key, int]]


@dataclass(frozen=True, slots=True)
class Line:
    """`parent` equals the sum of `children` (both published, at least in part)."""

    parent: Cell
    children: tuple[Cell, ...]

    @property
    def members(self) -> tuple[Cell, ...]:
        return (self.parent, *self.children)


def is_primary(value: int) -> bool:
    return 0 < value < THRESHOLD


# One table ---------------------------------------------------------------------------------------


def suppress_table(
    values: Mapping[Cell, int],
    cells: Sequence[Cell],
    lines: Sequence[Line],
    fixed: Mapping[Cell, Reason] | None = None,
    order: Callable[[Cell], str] = str,
) -> dict[Cell, Reason]:
    """The reasons of the hidden cells of a table: `cells` are the table's own (the only ones
    this may hide), `lines` those of its down-set, `fixed` the reasons already decided for the
    cells of the tables below it. Returns the reasons of `fixed` and of `cells`."""
    return _suppress_table(values, cells, lines, fixed or {}, order)[0]


def _suppress_table(
    values: Mapping[Cell, int],
    cells: Sequence[Cell],
    lines: Sequence[Line],
    fixed: Mapping[Cell, Reason],
    order: Callable[[Cell], str] = str,
    equations: "_Equations | None" = None,
    forced: Collection[Cell] = (),
) -> tuple[dict[Cell, Reason], list[Cell]]:
    """`suppress_table`, and the hidden cells still determined that no cell of this table can
    protect (the lattice then hides a coarser total: see `Lattice._suppress`). `equations` are
    the lattice's, kept from the tables suppressed before."""
    marks = dict(fixed)
    own = set(cells)
    rank = {c: (values.get(c, 0), order(c)) for c in own}  # complements go smallest first
    for cell in cells:
        if is_primary(values.get(cell, 0)):
            marks[cell] = PRIMARY
    equations = equations or _Equations(values)
    for line in lines:
        if marks.get(line.parent) == PRIMARY:
            # A total under 4 reads "<4" throughout its line, zeros too (domain.md §5.1 rule 3):
            # three "<4" under a "<4" would otherwise each be 1. Its parts may be 0 to a reader.
            equations.loose.update(line.children)
            for child in line.children:
                if child in own and child not in marks:
                    marks[child] = PRIMARY
    for cell in cells:
        if cell in forced and cell not in marks:
            marks[cell] = SECONDARY
    by_member: dict[Cell, list[Line]] = defaultdict(list)
    ours: dict[int, list[Cell]] = {}  # a line's members this table may hide
    for line in lines:
        ours[id(line)] = [m for m in line.members if m in own]
        for member in line.members:
            by_member[member].append(line)

    def lockable(cell: Cell) -> bool:
        # Hiding a cell is useless when a line fixes it from published cells of tables below.
        return not any(
            all(m == cell or (m not in own and m not in marks) for m in line.members) for line in by_member[cell]
        )

    def complement(candidates: Iterable[Cell], zeros: bool = False) -> bool:
        """Hide the smallest shown (non-zero unless `zeros`) lockable cell of `candidates`, this
        table's own."""
        shown = [c for c in candidates if c not in marks and (zeros or values.get(c, 0) > 0)]
        # The smallest that can be locked (checked in that order: a line may have hundreds).
        chosen = next((c for c in sorted(shown, key=rank.__getitem__) if lockable(c)), None)
        if chosen is None:
            return False
        marks[chosen] = SECONDARY
        dirty.update(id(line) for line in by_member[chosen])
        return True

    def linked(start: Cell, seen: set[Cell]) -> list[Line]:
        """The lines of the hidden cells linked to `start` (added to `seen`)."""
        found: dict[int, Line] = {}
        stack = [start]
        seen.add(start)
        while stack:
            for line in by_member[stack.pop()]:
                if id(line) in found:
                    continue
                found[id(line)] = line
                for m in line.members:
                    if m in marks and m not in seen:
                        seen.add(m)
                        stack.append(m)
        return list(found.values())

    covered: set[Cell]
    bulk: set[Cell]
    audit = _Audit(lines, by_member, equations)

    def blank(cell: Cell) -> bool:
        return equations.blank(cell, marks)

    dirty = {id(line) for line in lines}  # lines with a member hidden since they were last looked at
    rounds = 0
    while True:
        changed = False
        todo = [line for line in lines if id(line) in dirty]
        dirty.clear()
        for line in todo:
            hidden = [m for m in line.members if m in marks and not blank(m)]
            if len(hidden) == 1 or (hidden and audit.equations.of(line, marks).pins(blank)):
                # One hidden member, or several whose bounds this line alone pins (1 + 4 under 5);
                # a zero read as "<4" needs no protection of its own.
                changed |= complement(ours[id(line)]) or complement(ours[id(line)], zeros=True)
        if changed:
            continue
        open_cells = sorted(audit.exposed(marks, own), key=order)
        if not open_cells:
            return marks, []
        rounds += 1
        if rounds > PATIENCE:
            # Sparse tables (most cells small) would take a round per complement: hide every
            # shown non-zero cell of this table on the lines of each open group at once.
            covered = set()
            bulk = set()
            for cell in open_cells:
                if cell not in covered:
                    bulk |= {m for line in linked(cell, covered) for m in line.members}
            bulk = {c for c in bulk if c in own and c not in marks and values.get(c, 0) > 0 and lockable(c)}
            for c in bulk:
                marks[c] = SECONDARY
                dirty.update(id(line) for line in by_member[c])
            if bulk:
                continue
        for zeros in (False, True):
            # A hidden cell pinned on a line whose other cells are all hidden or zero: a hidden
            # zero leaves the line's sum open (SECONDARY may be 0 or at least THRESHOLD).
            fixes = [any(complement(ours[id(line)], zeros) for line in by_member[cell]) for cell in open_cells]
            if any(fixes):
                break
        else:
            # Determined through a chain of lines: in each open cell's group of linked hidden
            # cells, hide the smallest shown cell of this table on a line of the group; when no
            # group has one, nothing here can help.
            covered = set()
            hid = False
            for cell in open_cells:
                if cell not in covered:
                    group_lines = linked(cell, covered)
                    hid |= complement(m for line in group_lines for m in ours[id(line)])
            if not hid:
                return marks, open_cells


# The audit ---------------------------------------------------------------------------------------


class _Audit:
    """The audit of one table's rounds. Within them the lines stay and hidden cells only join,
    so the groups of linked hidden cells live in a union-find that each round extends with the
    cells hidden since, and each line's equation is kept while its hidden cells are the same:
    rebuilding both every round was a quarter of the CPU of the slowest report at 10,000
    families. (Most of the rest is `pinned` passing over a grown group from the reasons' bounds
    again: its four rounds depend on the order of the passes, so only a replay gives the same
    marks.)"""

    def __init__(self, lines: Sequence[Line], by_member: Mapping[Cell, list[Line]], equations: "_Equations"):
        self.by_member = by_member
        self.position = {id(line): i for i, line in enumerate(lines)}
        self.equations = equations
        self.parent: dict[Cell, Cell] = {}
        self.order: dict[Cell, int] = {}  # when a cell was hidden (its place in the marks)
        self.cells: dict[Cell, list[Cell]] = {}  # a group's root: its hidden cells
        self.lines: dict[Cell, list[Line]] = {}  # a group's root: the lines with a member among them
        self.audited: dict[frozenset[Cell], set[Cell]] = {}  # a group's audit, kept while it is unchanged
        self.current: dict[int, _Equation] = {}  # a line's equation over its hidden cells as they are

    def exposed(self, marks: Mapping[Cell, Reason], own: Collection[Cell]) -> set[Cell]:
        """Hidden cells the published values and the lines determine: exactly, or by the
        bounds a reader knows from the reasons; only in the groups of hidden cells that lines
        link to a hidden cell of `own` (the others were audited with the tables below)."""
        for cell in islice(marks, len(self.order), None):  # marks only grow, at their end
            self._hide(cell)
        wanted = {self._root(c) for c in own if c in marks} if own else set(self.cells)
        found: set[Cell] = set()
        for group in wanted:
            cells = frozenset(self.cells[group])
            if cells not in self.audited:
                hidden = sorted(cells, key=self.order.__getitem__)
                lines = sorted(self.lines[group], key=lambda line: self.position[id(line)])
                # Bounds first: cells they pin are fixed this round, and the exact test waits.
                system = [self._equation(line, marks) for line in lines]
                open_cells = pinned(system, {c: marks[c] for c in hidden}, self.equations.loose)
                open_cells = {c for c in open_cells if not self.equations.blank(c, marks)}
                exact = open_cells or determined(lines, hidden)
                self.audited[cells] = {c for c in exact if not self.equations.blank(c, marks)}
            found |= self.audited[cells]
        return found

    def _equation(self, line: Line, marks: Mapping[Cell, Reason]) -> "_Equation":
        equation = self.current.get(id(line))
        if equation is None:
            equation = self.current[id(line)] = self.equations.of(line, marks)
        return equation

    def _hide(self, cell: Cell) -> None:
        self.order[cell] = len(self.order)
        self.parent[cell] = cell
        self.cells[cell], self.lines[cell] = [cell], []
        for line in self.by_member[cell]:
            self.current.pop(id(line), None)
            other = next((m for m in line.members if m != cell and m in self.parent), None)
            if other is None:
                self.lines[self._root(cell)].append(line)
            else:
                self._union(cell, other)

    def _root(self, c: Cell) -> Cell:
        while self.parent[c] != c:
            self.parent[c] = self.parent[self.parent[c]]
            c = self.parent[c]
        return c

    def _union(self, a: Cell, b: Cell) -> None:
        a, b = self._root(a), self._root(b)
        if a == b:
            return
        if len(self.cells[a]) < len(self.cells[b]):
            a, b = b, a
        self.parent[b] = a
        self.cells[a] += self.cells.pop(b)
        self.lines[a] += self.lines.pop(b)


def determined(lines: Sequence[Line], hidden: Sequence[Cell]) -> set[Cell]:
    """Hidden cells whose value is a linear combination of published values: those that are
    zero in every solution of the lines' homogeneous equations over the hidden cells. Tested
    on random solutions modulo a large prime (a cell left open is zero in one by chance with
    probability 1/_PRIME, and then it is only suppressed more)."""
    index = {c: i for i, c in enumerate(hidden)}
    pivots: dict[int, dict[int, int]] = {}  # row echelon form: each row's smallest entry is 1
    for line in lines:
        row: dict[int, int] = {}
        for member, sign in [(line.parent, 1), *((child, -1) for child in line.children)]:
            i = index.get(member)
            if i is not None:
                row[i] = (row.get(i, 0) + sign) % _PRIME
        row = _reduce({k: v for k, v in row.items() if v}, pivots)
        if row:
            pivot = min(row)
            inverse = pow(row[pivot], _PRIME - 2, _PRIME)
            pivots[pivot] = {k: v * inverse % _PRIME for k, v in row.items()}
    rng = random.Random(len(hidden))
    zero_everywhere = set(range(len(hidden)))
    for _ in range(2):
        x = {i: rng.randrange(1, _PRIME) for i in range(len(hidden)) if i not in pivots}
        for p in sorted(pivots, reverse=True):
            x[p] = -sum(v * x[j] for j, v in pivots[p].items() if j != p) % _PRIME
        zero_everywhere &= {i for i, v in x.items() if v == 0}
    return {hidden[i] for i in zero_everywhere}


def _reduce(row: dict[int, int], pivots: Mapping[int, dict[int, int]]) -> dict[int, int]:
    """`row` less multiples of pivot rows until its smallest entry is no pivot."""
    while row:
        k = min(row)
        if k not in pivots:
            return row
        factor = row[k]
        for j, v in pivots[k].items():
            row[j] = (row.get(j, 0) - factor * v) % _PRIME
            if not row[j]:
                del row[j]
    return row


def bounds(reason: Reason, loose: bool = False) -> tuple[int, int]:
    """What a reader knows of a hidden count from its reason: PRIMARY is 1..3 (0..3 when
    `loose`: a part of a total under 4, where zeros read "<4" too); SECONDARY is 0 or at least
    THRESHOLD (see `narrow`)."""
    return (0 if loose else 1, THRESHOLD - 1) if reason == PRIMARY else (0, _UNBOUNDED)


def narrow(reason: Reason, lo: int, hi: int) -> tuple[int, int]:
    """Bounds cut to the values a reason allows: a SECONDARY count is never 1..3."""
    if reason == SECONDARY:
        if lo >= 1:
            lo = max(lo, THRESHOLD)
        if hi < THRESHOLD:
            hi = 0
    return lo, hi


@dataclass(frozen=True, slots=True, eq=False)
class _Equation:
    """A line over its hidden cells: sum(sign * cell) + known = 0; `first` the bounds a pass over
    it narrows from those the reasons give (before any other line has narrowed them)."""

    unknown: list[tuple[Cell, int]]
    reasons: list[Reason]
    known: int
    first: list[tuple[Cell, tuple[int, int]]]

    def pins(self, blank: Callable[[Cell], bool]) -> bool:
        """This line alone pins a hidden cell (1 + 4 under 5), not counting `blank` ones:
        `pinned` over it, one round."""
        return any(lo >= hi and not blank(c) for c, (lo, hi) in self.first)


class _Equations:
    """Each line's equation, kept over the lattice's tables while the line's hidden cells are the
    same: every table's audit passes again over the lines of the tables below it."""

    def __init__(self, values: Mapping[Cell, int]):
        self.values = values
        self.kept: dict[int, _Equation] = {}
        self.loose: set[Cell] = set()  # parts of a total under 4: a reader's "<4" there may be 0

    def blank(self, cell: Cell, marks: Mapping[Cell, Reason]) -> bool:
        """A hidden zero: recovering it recovers no count (the counts it protects are audited
        themselves)."""
        return cell in marks and not self.values.get(cell, 0)

    def of(self, line: Line, marks: Mapping[Cell, Reason]) -> _Equation:
        unknown = [(c, sign) for c, sign in [(line.parent, 1), *((c, -1) for c in line.children)] if c in marks]
        reasons = [marks[c] for c, _ in unknown]
        kept = self.kept.get(id(line))
        if kept is not None and kept.unknown == unknown and kept.reasons == reasons:
            return kept
        # parent - children = 0, so the shown members add up to minus the hidden ones.
        known = -sum(sign * self.values.get(c, 0) for c, sign in unknown)
        first = _narrowed(unknown, known, {c: bounds(marks[c], c in self.loose) for c, _ in unknown}, marks)
        self.kept[id(line)] = equation = _Equation(unknown, reasons, known, first)
        return equation


def pinned(
    system: Sequence[_Equation], marks: Mapping[Cell, Reason], loose: Collection[Cell] = (), rounds: int = 4
) -> set[Cell]:
    """Hidden cells whose bounds, tightened through the lines' equations, leave one value. Each
    round passes over the lines in order, skipping those none of whose cells' bounds changed
    since they were last passed (they would change nothing); a line none of whose cells' bounds
    changed at all takes the first pass its equation kept."""
    box = {c: bounds(r, c in loose) for c, r in marks.items()}
    of_cell: dict[Cell, list[int]] = defaultdict(list)
    for index, equation in enumerate(system):
        for c, _ in equation.unknown:
            of_cell[c].append(index)
    dirty = set(range(len(system)))
    moved: set[int] = set()  # lines a cell of which no longer has its reason's bounds
    for _ in range(rounds):
        if not dirty:
            break
        for index, equation in enumerate(system):
            if index not in dirty:
                continue
            dirty.discard(index)
            changes = _narrowed(equation.unknown, equation.known, box, marks) if index in moved else equation.first
            for cell, new in changes:
                box[cell] = new
                dirty.update(of_cell[cell])
                moved.update(of_cell[cell])
    return {c for c, (lo, hi) in box.items() if lo >= hi}


def _narrowed(
    unknown: Sequence[tuple[Cell, int]],
    known: int,
    box: Mapping[Cell, tuple[int, int]],
    marks: Mapping[Cell, Reason],
) -> list[tuple[Cell, tuple[int, int]]]:
    """The bounds one pass over sign*x + (the other unknowns) + known = 0 narrows: the others'
    range is the whole range less the cell's own part."""
    low = [box[c][0] if sign > 0 else -box[c][1] for c, sign in unknown]
    high = [box[c][1] if sign > 0 else -box[c][0] for c, sign in unknown]
    all_lo, all_hi = sum(low), sum(high)
    changes = []
    for (cell, sign), own_lo, own_hi in zip(unknown, low, high, strict=True):
        if sign > 0:
            lo, hi = -known - (all_hi - own_hi), -known - (all_lo - own_lo)
        else:
            lo, hi = known + all_lo - own_lo, known + all_hi - own_hi
        old = box[cell]
        new = narrow(marks[cell], max(old[0], lo), min(old[1], hi))
        if new != old:
            changes.append((cell, new))
    return changes


# The lattice -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Axis:
    """A dimension of the lattice. `path(key)` gives a finest key's keys at levels 1..n (the
    last is the key itself); `partition` is False when a unit may have several keys.

    `closed`: every lattice that holds a table holds its refinements along this axis (the
    lattice is always built to the axis's depth), so a line along it that the bounds pin may
    hide its total, and every report still serves that total with the same mark. An open axis
    (a report's own dimension: other reports hold its margins without it) never hides a total."""

    name: str
    depth: int
    path: Callable[[str], tuple[str, ...]] = lambda key: (key,)
    partition: bool = True
    closed: bool = True


@dataclass(slots=True)
class Lattice:
    """Counts of every table of the lattice over `axes`, and their suppression."""

    axes: tuple[Axis, ...]
    counts: dict[Table, dict[Key, int]] = field(default_factory=dict)
    marks: dict[Cell, Reason] = field(default_factory=dict)
    up: dict[tuple[int, int, str | None], str | None] = field(default_factory=dict)
    below: dict[tuple[int, int, str | None], set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(
        cls,
        axes: Sequence[Axis],
        atoms: Atoms,
        top: Table | None = None,
        given: Mapping[Cell, Reason | None] | None = None,
        forced: Collection[Cell] = (),
    ) -> "Lattice":
        """`atoms[dropped]`: counts by finest keys, with None on the overlapping axes in
        `dropped` (counted once per unit there); atoms[frozenset()] holds every finest key.
        Only `top` and the tables below it are built, but every closed axis to its depth.
        `given` cells are suppressed as another lattice decided (None: shown) and are never
        hidden here; `forced` cells are hidden (see `exposed_totals`)."""
        lattice = cls.counted(axes, atoms, limits_of(axes, top))
        lattice._suppress(given or {}, forced)
        return lattice

    @classmethod
    def counted(
        cls,
        axes: Sequence[Axis],
        atoms: Atoms,
        limits: Table,
        most: int | None = None,
        wanted: Callable[[Table], bool] = lambda table: True,
    ) -> "Lattice":
        """The counts of the `wanted` tables within `limits` (a level per axis), unsuppressed;
        at most `most` cells (MAX_CELLS)."""
        most = MAX_CELLS if most is None else most
        lattice = cls(tuple(axes))
        paths: dict[tuple[int, str], tuple[str, ...]] = {}
        for table in filter(wanted, product(*(range(limit + 1) for limit in limits))):
            dropped = frozenset(i for i, a in enumerate(axes) if not a.partition and table[i] == 0)
            sums: dict[Key, int] = defaultdict(int)
            for fine, n in atoms[dropped].items():
                key = tuple(
                    None if level == 0 or k is None else lattice._path(paths, i, k, limits[i])[level - 1]
                    for i, (k, level) in enumerate(zip(fine, table, strict=True))
                )
                sums[key] += n
            lattice.counts[table] = {k: n for k, n in sums.items() if n}
            if sum(len(cells) for cells in lattice.counts.values()) > most:
                raise TooFine(f"more than {most} cells")
        return lattice

    def _path(self, paths: dict[tuple[int, str], tuple[str, ...]], axis: int, fine: str, depth: int) -> tuple[str, ...]:
        """A finest key's keys at levels 1..; remembers each level's key's coarser key."""
        path = paths.get((axis, fine))
        if path is None:
            path = paths[(axis, fine)] = self.axes[axis].path(fine)
            for lv in range(1, depth + 1):
                self.up[(axis, lv, path[lv - 1])] = parent = path[lv - 2] if lv > 1 else None
                self.below[(axis, lv, parent)].add(path[lv - 1])
        return path

    def tables(self) -> list[Table]:
        return sorted(self.counts, key=lambda t: (sum(t), t))

    def lines_of(self, table: Table) -> list[Line]:
        """Each cell of a table one level coarser on a partition axis is the sum of its cells."""
        lines = []
        for i, axis in enumerate(self.axes):
            if table[i] == 0 or not axis.partition:
                continue
            parent = (*table[:i], table[i] - 1, *table[i + 1 :])
            for pkey in sorted(self.counts[parent], key=str):
                keys = sorted(self.below[(i, table[i], pkey[i])])
                lines.append(Line((parent, pkey), tuple((table, (*pkey[:i], k, *pkey[i + 1 :])) for k in keys)))
        return lines

    def _suppress(self, given: Mapping[Cell, Reason | None], forced: Collection[Cell] = ()) -> None:
        """Each table from its own counts and the tables below it, coarsest first; then, while a
        table leaves a hidden cell determined (bounds: 5 = "<4" + "*" pins the 1, whatever else
        of its line is hidden), hide the smallest shown total of the cell's lines along a closed
        axis, and suppress again the tables above it."""
        values = {(t, k): n for t, cells in self.counts.items() for k, n in cells.items()}
        lines_of = {t: self.lines_of(t) for t in self.counts}
        self.marks.update({c: r for c, r in given.items() if r is not None and c[0] in self.counts})
        tables = self.tables()
        below = {t: [u for u in tables if _under(u, t)] for t in tables}
        equations = _Equations(values)
        todo = set(tables)
        while todo:
            repairs: set[Cell] = set()
            for table in tables:
                if table not in todo:
                    continue
                lines = [line for t in below[table] for line in lines_of[t]]
                down = set(below[table])
                fixed = {c: r for c, r in self.marks.items() if c[0] in down}
                own = {c for line in lines_of[table] for c in line.children} | {(table, k) for k in self.counts[table]}
                marks, open_cells = _suppress_table(
                    values, sorted(own - given.keys(), key=str), lines, fixed, equations=equations, forced=forced
                )
                self.marks.update(marks)
                repairs |= {c for c in map(self._total_to_hide(values, lines, given), open_cells) if c}
            self.marks.update(dict.fromkeys(repairs, SECONDARY))
            todo = {t for t in tables if any(_under(c[0], t) for c in repairs)}

    def _total_to_hide(
        self, values: Mapping[Cell, int], lines: Sequence[Line], given: Mapping[Cell, Reason | None]
    ) -> Callable[[Cell], Cell | None]:
        """For a determined hidden cell: the smallest shown total of its lines along closed axes
        that hiding can protect (no line fixes it from cells its table cannot hide)."""
        by_member: dict[Cell, list[Line]] = defaultdict(list)
        for line in lines:
            for member in line.members:
                by_member[member].append(line)

        def fixed(m: Cell, table: Table) -> bool:
            return m not in self.marks and (m in given or (m[0] != table and _under(m[0], table)))

        def lockable(total: Cell) -> bool:
            return not any(all(m == total or fixed(m, total[0]) for m in line.members) for line in by_member[total])

        def total(cell: Cell) -> Cell | None:
            totals = [
                line.parent
                for line in by_member[cell]
                if line.parent != cell
                and line.parent not in self.marks
                and line.parent not in given
                and self.axes[_axis_of(line)].closed
                and lockable(line.parent)
            ]
            return min(totals, key=lambda c: (values.get(c, 0), str(c)), default=None)

        return total

    def value(self, table: Table, key: Key) -> int:
        return self.counts[table].get(key, 0)

    def reason(self, table: Table, key: Key) -> Reason | None:
        return self.marks.get((table, key))


def limits_of(axes: Sequence[Axis], top: Table | None) -> Table:
    """The finest level a lattice builds on each axis: `top`'s, but every closed axis whole."""
    return tuple(a.depth if top is None or a.closed else top[i] for i, a in enumerate(axes))


def exposed_totals(axes: Sequence[Axis], atoms: Atoms, limits: Table, skip: Collection[int] = ()) -> set[Cell]:
    """The cells within `limits` that a split along an open axis would give away: the line
    from such a cell to its parts one level finer on any open axis (`axes` built to their
    depths, which may hold more axes than a report: a dimension it lacks, at level 0 there)
    pins a part of 1 to 3 even with every non-zero part hidden (`fragile`). A report hides
    them whether or not it serves the split: every report that serves the cell holds the same
    data and hides it alike, so the reports that serve the split find its total hidden. Splits
    along the axes in `skip` are not looked at."""
    extra = len(limits)  # the axes past the report's are at level 0 in its cells
    bound = (*limits, *(0 for _ in axes[extra:]))

    def wanted(table: Table) -> bool:  # the report's tables and those one level finer on one axis
        return sum(max(level - b, 0) for level, b in zip(table, bound, strict=True)) <= 1

    counted = Lattice.counted(axes, atoms, tuple(a.depth for a in axes), 10 * MAX_CELLS, wanted)
    found: set[Cell] = set()
    for table in counted.counts:
        for line in counted.lines_of(table):
            (parent_table, parent_key), axis = line.parent, _axis_of(line)
            if (
                axes[axis].closed
                or axis in skip
                or any(parent_table[extra:])
                or any(map(int.__gt__, parent_table, limits))
            ):
                continue
            if fragile(counted.value(*line.parent), [counted.value(*c) for c in line.children]):
                found.add((parent_table[:extra], parent_key[:extra]))
    return found


def fragile(total: int, parts: Sequence[int]) -> bool:
    """A shown total whose non-zero parts, every one hidden, still pin a part of 1 to 3 by the
    bounds a reader knows: 4 = four "<4" (each 1), 5 = "*" + "<4" (4 and 1), 6 = two "<4"."""
    if not total or is_primary(total):
        return False
    reasons = [PRIMARY if is_primary(n) else SECONDARY for n in parts if n]
    box = [bounds(r) for r in reasons]
    for _ in range(4):
        low, high = sum(lo for lo, _ in box), sum(hi for _, hi in box)
        box = [
            narrow(r, max(lo, total - (high - hi)), min(hi, total - (low - lo)))
            for r, (lo, hi) in zip(reasons, box, strict=True)
        ]
    return any(r == PRIMARY and lo >= hi for r, (lo, hi) in zip(reasons, box, strict=True))


def _under(low: Table, high: Table) -> bool:
    return all(a <= b for a, b in zip(low, high, strict=True))


def _axis_of(line: Line) -> int:
    """The axis a line sums along: where its total's table is one level coarser."""
    return next(i for i, (a, b) in enumerate(zip(line.parent[0], line.children[0][0], strict=True)) if a != b)


def display(value: int, reason: Reason | None) -> str:
    if reason == PRIMARY:
        return PRIMARY_TOKEN
    if reason == SECONDARY:
        return SECONDARY_TOKEN
    return str(value)


def rate(numerator: int, numerator_reason: Reason | None, denominator: int) -> tuple[float | None, Reason | None]:
    """A percentage to one decimal place, suppressed with its numerator or when its
    denominator is below the threshold (then the reason is PRIMARY: a small base)."""
    if numerator_reason is not None:
        return None, numerator_reason
    if denominator < THRESHOLD:
        return None, PRIMARY
    return round(100 * numerator / denominator, 1), None
