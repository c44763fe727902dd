r"""Equations as the user types them, the model's own equations, and what differs between them.

The canonical equations are read from the model files themselves: the first indented block of
the module docstring of ``seqarch/models/rnn.py``, ``lstm.py`` and ``gru.py``, e.g.

    C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t                     cell: the long-term memory

(``tests/test_practice.py`` checks that each one computes what the cell's ``forward`` computes),
so a drill can never ask for an equation the code does not implement.

Both sides go through one reader. Every element-wise product, matrix product and scalar
product is a commutative product here: an update written with ``⊙``, ``*``, ``·`` or a space
is the same answer. σ and tanh stay opaque functions, so ``tanh(a + b)`` equals ``tanh(b + a)``
but not ``2σ(2a) − 1``. Two answers are equal when ``expand(user − model) == 0``.

Accepted spellings: ``h_{t-1}``, ``h_prev``, ``h_(t-1)``, ``h_t-1``; ``c_t`` for ``C_t``;
``σ``, ``sigma``, ``sigmoid``; ``⊙ * · ×``; ``−``; PyTorch's names ``W_ii``, ``W_hi``,
``b_ii`` (→ ``W_xi``, ``b_xi``) and ``U_i`` (→ ``W_hi``); ``C̃_t``/``Ctilde_t`` for the
LSTM's candidate ``g_t`` and ``h̃_t``/``htilde_t`` for the GRU's ``n_t``.

Biases. PyTorch keeps two bias vectors per gate (b_xf + b_hf), textbooks one (b_f), and
many candidates leave them out. An answer is equal when it matches under one of: the exact
symbols; b_x? = b_? − b_h? (one combined bias); b_? read as b_x?. An answer that matches only
with every bias set to zero is right when it has no biases at all, and half right otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from tokenize import TokenError
from types import ModuleType

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import BadInput

SIGMA = sp.Function("σ")
TANH = sp.Function("tanh")
FUNCTIONS = {"σ": SIGMA, "sigma": SIGMA, "sigmoid": SIGMA, "sig": SIGMA, "tanh": TANH}
EXAMPLE = "C_t = f_t*C_{t-1} + i_t*g_t"

# The candidate state under its textbook names (a tilde over the state it would become).
CANDIDATE_ALIASES = {
    "lstm": {"Ctilde_t": "g_t", "C_tilde": "g_t", "Ctilde": "g_t"},
    "gru": {"htilde_t": "n_t", "h_tilde": "n_t", "htilde": "n_t"},
}


class EquationParseError(ValueError):
    """The text could not be read as an equation; the message says why and shows an example."""


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs``: lhs a display name like ``C_t``, rhs a sympy expression."""

    lhs: str | None
    rhs: sp.Expr
    note: str = ""  # the comment beside it in the model file

    def __str__(self) -> str:
        return f"{self.lhs} = {show(self.rhs)}" if self.lhs else show(self.rhs)


@dataclass(frozen=True)
class Verdict:
    """How an answer compares with the model's equation: score 1 equal, 0.5 up to biases."""

    score: float
    diagnosis: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.score >= 1.0


# ---------------------------------------------------------------------------------------------
# Reading text.

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)"
    r"|(?P<name>[A-Za-zσ][A-Za-z0-9']*(?:_(?:\{[^{}]*\}|[A-Za-z0-9']+))*)"
    r"|(?P<op>\*\*|[-+*/^()=]))"
)


def _prepare(text: str) -> str:
    """Unicode operators to ASCII, and the common spellings of t−1 to one."""
    for a, b in (("⊙", "*"), ("·", "*"), ("×", "*"), ("∘", "*"), ("−", "-"), ("–", "-")):
        text = text.replace(a, b)
    text = re.sub(r"([A-Za-z])\u0303", r"\1tilde", text)  # C̃ -> Ctilde
    text = re.sub(r"_\(\s*t\s*-\s*1\s*\)", "_{t-1}", text)  # h_(t-1)
    text = re.sub(r"_t-1\b", "_{t-1}", text)  # h_t-1 (no spaces: z_t - 1 stays a subtraction)
    return text


def canonical_name(raw: str, arch: str | None = None) -> str:
    """One spelling per symbol: ``h_prev`` -> ``h_{t-1}``, ``W_if`` -> ``W_xf``, ``c_t`` -> ``C_t``.

    ``arch`` adds that architecture's names for its candidate (``C̃_t`` is the LSTM's ``g_t``).
    """
    name = re.sub(r"_\{([^{}]*)\}", lambda m: "_{" + m.group(1).replace(" ", "") + "}", raw)
    name = re.sub(r"_\{(t|[A-Za-z0-9]+)\}$", r"_\1", name)  # x_{t} -> x_t
    name = re.sub(r"(_prev|_tm1|prev)$", "_{t-1}", name).replace("__", "_")
    if re.fullmatch(r"[A-Za-z]+_\{t-1\}", name) is None and name.endswith("_{t-1}"):
        name = re.sub(r"_+\{t-1\}$", "_{t-1}", name)
    if name in ("c_t", "c_{t-1}"):
        name = "C" + name[1:]
    name = (CANDIDATE_ALIASES.get(arch or "", {})).get(name, name)
    name = re.sub(r"^([Wb])_i([a-z])$", r"\1_x\2", name)  # PyTorch: W_ii, W_if, b_ih ...
    name = re.sub(r"^U_([a-z])$", r"W_h\1", name)  # U_f (recurrent weights) -> W_hf
    return name


def _safe(name: str) -> str:
    """A Python identifier for a display name: h_{t-1} -> h__prev."""
    return re.sub(r"\W", "_", name.replace("_{t-1}", "__prev"))


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].strip()[:12]
            raise EquationParseError(
                f"cannot read {bad!r} in {text.strip()!r}; write names like h_{{t-1}}, "
                f"operators + - * / ( ), functions σ/sigmoid and tanh — e.g. {EXAMPLE}"
            )
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse(text: str, arch: str | None = None) -> Equation:
    """Read ``lhs = rhs`` (or a bare expression) into an :class:`Equation`."""
    if not text or not text.strip():
        raise EquationParseError(f"the answer is empty; expected an equation such as {EXAMPLE}")
    tokens = _tokens(_prepare(text))
    if sum(1 for k, v in tokens if v == "=") > 1:
        raise EquationParseError(f"{text.strip()!r} has more than one '='; expected one update")
    lhs = None
    if ("op", "=") in tokens:
        i = tokens.index(("op", "="))
        if i != 1 or tokens[0][0] != "name":
            raise EquationParseError(
                f"the left side of {text.strip()!r} is not one name; expected e.g. {EXAMPLE}"
            )
        lhs, tokens = canonical_name(tokens[0][1], arch), tokens[2:]
    if not tokens:
        raise EquationParseError(f"{text.strip()!r} has nothing after '='; expected {EXAMPLE}")
    pieces, symbols, prev = [], {}, None
    for kind, value in tokens:
        is_function = kind == "name" and value in FUNCTIONS
        starts_operand = kind in ("num", "name") or value == "("
        if prev in ("num", "name", ")") and starts_operand:
            pieces.append("*")  # implicit product: "W_xh x_t", "r_t (W_hn h + b)"
        if is_function:
            pieces.append("__σ" if FUNCTIONS[value] is SIGMA else "__tanh")
            prev = "function"
            continue
        if kind == "name":
            name = canonical_name(value, arch)
            if is_matrix(name):
                symbols[_safe(name)] = sp.Function(name)
            else:
                symbols[_safe(name)] = sp.Symbol(name)
            pieces.append(_safe(name))
        else:
            pieces.append("**" if value == "^" else value)
        prev = kind if kind != "op" else value
    pieces = _apply_matrices(pieces, {k for k, v in symbols.items() if isinstance(v, type)})
    source = " ".join(pieces)
    try:
        rhs = sp.parse_expr(
            source, local_dict={**symbols, "__σ": SIGMA, "__tanh": TANH}, evaluate=True
        )
    except (SyntaxError, TypeError, sp.SympifyError, TokenError) as e:
        raise EquationParseError(
            f"cannot read {text.strip()!r} as an equation ({type(e).__name__}: check the "
            f"brackets and operators); expected e.g. {EXAMPLE}"
        ) from None
    if not isinstance(rhs, sp.Expr):
        raise EquationParseError(f"{text.strip()!r} is not an expression; expected {EXAMPLE}")
    return Equation(lhs, linear(rhs))


def is_matrix(name: str) -> bool:
    """Weight matrices (W_xh, W_hf ...) are linear maps: ``W_hn (r_t ⊙ h)`` ≠ ``r_t ⊙ W_hn h``."""
    return re.match(r"[WU]_", name) is not None


def _apply_matrices(pieces: list[str], matrices: set[str]) -> list[str]:
    """``W * operand`` -> ``W(operand)``: a matrix applies to the one operand after it."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        p = pieces[i]
        if p in matrices and i + 2 < len(pieces) and pieces[i + 1] == "*":
            j = i + 2
            if pieces[j] in ("__σ", "__tanh"):
                j += 1
            if pieces[j] == "(":
                depth, k = 0, j
                while k < len(pieces):
                    depth += {"(": 1, ")": -1}.get(pieces[k], 0)
                    if depth == 0:
                        break
                    k += 1
                j = k
            operand = _apply_matrices(pieces[i + 2 : j + 1], matrices)
            out += [p, "(", *operand, ")"]
            i = j + 1
        else:
            out.append(p)
            i += 1
    return out


def linear(expr: sp.Expr) -> sp.Expr:
    """Expand every matrix application by linearity: W(a + 2b) -> W(a) + 2·W(b)."""

    def expand_map(call: sp.Expr) -> sp.Expr:
        total = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(call.args[0])):
            coeff, rest = term.as_coeff_Mul()
            total += coeff * call.func(rest)
        return total

    return expr.replace(
        lambda e: isinstance(e, AppliedUndef) and is_matrix(e.func.__name__), expand_map
    )


def show(expr: sp.Expr) -> str:
    """An expression as a user would write it: ``f_t*C_{t-1} + g_t*i_t``, ``W_xh x_t``."""
    text = str(expr)
    return re.sub(r"\b([WU]_\w+)\(([\w{}-]+)\)", r"\1 \2", text)


# ---------------------------------------------------------------------------------------------
# The model's own equations.


def _equation_modules() -> dict[str, ModuleType]:
    from ..models import gru, lstm, rnn

    return {"rnn": rnn, "lstm": lstm, "gru": gru}


CLASSIC = ("rnn", "lstm", "gru")
"""The architectures whose update equations are drilled (their docstrings hold them)."""

_LINE = re.compile(r"^ {4}(?P<lhs>[A-Za-z]\w*) = (?P<rhs>.+?)(?: {2,}(?P<note>.*))?$")


@cache
def model_equations(arch: str) -> dict[str, Equation]:
    """{lhs: Equation} from the first indented block of ``seqarch/models/<arch>.py``'s docstring.

    The read-out ``y_t = W_hy h_t + b_y`` is left out: it is the same for every model.
    """
    modules = _equation_modules()
    if arch not in modules:
        raise BadInput(f"arch {arch!r} has no drilled equations; expected one of {CLASSIC}")
    lines = (modules[arch].__doc__ or "").splitlines()
    equations: dict[str, Equation] = {}
    for line in lines:
        m = _LINE.match(line)
        if m is None:
            if equations:  # the block has ended
                break
            continue
        eq = parse(f"{m['lhs']} = {m['rhs']}", arch)
        if eq.lhs != "y_t":
            note = (m["note"] or "").strip().removeprefix("(").removesuffix(")")
            equations[eq.lhs] = Equation(eq.lhs, eq.rhs, note)
    if not equations:
        raise RuntimeError(f"no equations found in the docstring of seqarch.models.{arch}")
    return equations


def notation(arch: str) -> str:
    """The symbols the model's equations use, as a hint that does not give the answer away."""
    names: set[str] = set()
    for eq in model_equations(arch).values():
        names |= {s.name for s in eq.rhs.free_symbols} | {eq.lhs}
        names |= {
            c.func.__name__ for c in eq.rhs.atoms(AppliedUndef) if c.func not in (SIGMA, TANH)
        }
    order = {"x": 0, "h": 1, "C": 1, "W": 3, "b": 4}
    return " ".join(sorted(names, key=lambda n: (order.get(n[0], 2), n)))


# ---------------------------------------------------------------------------------------------
# Comparing.


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    return sp.expand(a - b) == 0


def _biases(expr: sp.Expr) -> set[sp.Symbol]:
    return {s for s in expr.free_symbols if s.name.startswith("b_")}


def _bias_forms(user: sp.Expr, model: sp.Expr) -> list[tuple[sp.Expr, sp.Expr]]:
    """(user, model) pairs under each accepted bias convention (see the module docstring)."""
    pairs = [(user, model)]
    combined = {}
    for s in _biases(model) | _biases(user):
        m = re.fullmatch(r"b_x(\w)", s.name)
        if m:
            combined[s] = sp.Symbol(f"b_{m[1]}") - sp.Symbol(f"b_h{m[1]}")
    pairs.append((user.subs(combined), model.subs(combined)))
    as_input = {s: sp.Symbol(f"b_x{s.name[2:]}") for s in _biases(user) if len(s.name) == 3}
    pairs.append((user.subs(as_input), model))
    return pairs


def _zero_biases(expr: sp.Expr) -> sp.Expr:
    return expr.subs({s: 0 for s in _biases(expr)})


def compare(user: Equation, model: Equation, gates: set[str] | None = None) -> Verdict:
    """Score ``user`` against ``model`` and, when they differ, say what differs."""
    lhs_note = []
    if user.lhs is not None and model.lhs is not None and user.lhs != model.lhs:
        lhs_note = [f"the question asks for {model.lhs}, and you wrote {user.lhs} = …"]
    if any(_equal(u, m) for u, m in _bias_forms(user.rhs, model.rhs)):
        return Verdict(0.0 if lhs_note else 1.0, lhs_note)
    u, m = _zero_biases(user.rhs), _zero_biases(model.rhs)
    if _equal(u, m):
        if not _biases(user.rhs):
            note = [f"(you left out the biases; the model adds {', '.join(_names(model.rhs))})"]
            return Verdict(
                0.0 if lhs_note else 1.0, lhs_note + (note if _biases(model.rhs) else [])
            )
        return Verdict(
            0.5,
            lhs_note + [f"right apart from the biases: the model has {show(model.rhs)}"],
        )
    return Verdict(0.0, lhs_note + diagnose(u, m, gates or set()))


def _names(expr: sp.Expr) -> list[str]:
    return sorted(s.name for s in _biases(expr))


def _nonlinear_calls(expr: sp.Expr) -> list[sp.Expr]:
    return sorted(
        (c for c in expr.atoms(AppliedUndef) if c.func in (SIGMA, TANH)), key=lambda c: str(c)
    )


def diagnose(user: sp.Expr, model: sp.Expr, gates: set[str]) -> list[str]:
    """What differs between two bias-free right-hand sides: the most specific finding."""
    u_syms, m_syms = user.free_symbols, model.free_symbols
    checks = []
    checks.append(
        [
            f"{g} and (1 − {g}) are swapped: the model has {show(model)}"
            for g in sorted(m_syms, key=lambda s: s.name)
            if g.name in gates and _equal(user.subs(g, 1 - g), model)
        ]
    )
    checks.append(
        [
            f"wrong {'gate' if b.name in gates else 'symbol'}: you wrote {a} where the model "
            f"has {b}"
            for a in sorted(u_syms - m_syms, key=lambda s: s.name)
            for b in sorted(m_syms - u_syms, key=lambda s: s.name)
            if _equal(user.subs(a, b), model)
        ]
    )
    common = sorted(u_syms & m_syms, key=lambda s: s.name)
    checks.append(
        [
            f"{a} and {b} are swapped"
            for a in common
            for b in common
            if a.name < b.name and _equal(user.subs({a: b, b: a}, simultaneous=True), model)
        ]
    )
    checks.append(
        [
            f"missing {call.func} around {show(call.args[0])}: the model has {show(call)}"
            for call in _nonlinear_calls(model)
            if _equal(model.subs(call, call.args[0]), user)
        ]
    )
    other = {SIGMA: TANH, TANH: SIGMA}
    swapped = user.replace(
        lambda e: isinstance(e, AppliedUndef) and e.func in other,
        lambda e: other[e.func](*e.args),
    )
    checks.append(
        ["wrong nonlinearity: σ and tanh are exchanged"] if _equal(swapped, model) else []
    )
    checks.append(_gate_inside_matrix(user, model))
    u_terms = set(sp.Add.make_args(sp.expand(user)))
    m_terms = set(sp.Add.make_args(sp.expand(model)))
    checks.append(
        [
            f"sign: the term {show(t)} has the wrong sign"
            for t in sorted(m_terms, key=str)
            if -t in u_terms and t not in u_terms
        ]
    )
    for found in checks:
        if found:
            return found
    u_calls, m_calls = _nonlinear_calls(user), _nonlinear_calls(model)
    if len(u_terms) == len(m_terms) == 1 and len(u_calls) == len(m_calls) == 1:
        (uc,), (mc,) = u_calls, m_calls
        if uc.func == mc.func and _equal(user.subs(uc, 0), model.subs(mc, 0)):
            inner = diagnose(uc.args[0], mc.args[0], gates)
            return [f"inside {mc.func}(…): {d}" for d in inner]
    found = []
    missing = sorted(s.name for s in m_syms - u_syms)
    extra = sorted(s.name for s in u_syms - m_syms)
    if missing:
        found.append(f"your answer never uses {', '.join(missing)}")
    if extra:
        found.append(f"{', '.join(extra)}: not in the model's equation")
    lost = sorted(show(t) for t in m_terms - u_terms)
    added = sorted(show(t) for t in u_terms - m_terms)
    if lost and len(m_terms) > 1:
        found.append(f"missing term(s): {', '.join(lost)}")
    if added and len(u_terms) > 1:
        found.append(f"term(s) the model does not have: {', '.join(added)}")
    return found or [f"not equivalent to the model's {show(model)}"]


def _gate_inside_matrix(user: sp.Expr, model: sp.Expr) -> list[str]:
    """A gate applied before the matrix, W (r ⊙ h), where the model applies it after, r ⊙ (W h)."""
    found: list[str] = []

    def pull(call: sp.Expr) -> sp.Expr:
        factors = sp.Mul.make_args(call.args[0])
        gates_in = [f for f in factors if isinstance(f, sp.Symbol) and not _is_state(f)]
        rest = sp.Mul(*[f for f in factors if f not in gates_in])
        if gates_in and rest != 1:
            found.append(
                f"{', '.join(map(str, gates_in))} multiplies after the matrix product in this "
                f"model: {' * '.join(map(str, gates_in))} * ({call.func} {show(rest)}), not "
                f"{call.func} ({show(call.args[0])})"
            )
            return sp.Mul(*gates_in) * call.func(rest)
        return call

    pulled = user.replace(
        lambda e: isinstance(e, AppliedUndef) and is_matrix(e.func.__name__), pull
    )
    return found if found and _equal(pulled, model) else []


def _is_state(s: sp.Symbol) -> bool:
    """Inputs and states (x_t, h_{t-1}, C_{t-1}) are what matrices act on; gates are not."""
    return s.name.startswith(("x_", "h_", "C_"))


def direct_derivative(arch: str, lhs: str) -> sp.Expr | None:
    """∂lhs/∂(its own previous value) along the direct path, gates and candidates held fixed.

    None when the previous value only enters through a nonlinearity (the RNN), where the
    derivative is a Jacobian, not a gate.
    """
    eq = model_equations(arch)[lhs]
    prev = sp.Symbol(lhs[:-2] + "_{t-1}") if lhs.endswith("_t") else None
    if prev is None or prev not in eq.rhs.free_symbols:
        return None
    for call in eq.rhs.atoms(AppliedUndef):
        if prev in call.free_symbols:
            return None
    return sp.expand(sp.diff(eq.rhs, prev))


def gates(arch: str) -> set[str]:
    """The gate symbols of an architecture: the left sides whose right side is σ(…)."""
    return {lhs for lhs, eq in model_equations(arch).items() if eq.rhs.func is SIGMA}
