"""Understanding free text: commands that always win, a classifier learned from examples, a scored decision.

``data/intents.yaml`` defines each rule (a route of ``handlers/__init__.py``) by its commands and by example
sentences. :meth:`IntentRecognizer.understand` decides, for one text:

1. a **command** (score 1): the text is one of a rule's ``exact`` phrases, or starts with one of its ``prefix``
   words (the rest is the argument), as typed or once politeness is cut from its ends (請問 / 幫我 / please …;
   not for ``strict`` rules: "我要取消" is no bare "取消"). A prefix whose rest is a question ("報名時間到什麼時候")
   is left to the model. Text is folded first (width, case, simplified → traditional, see :mod:`bot.textfold`).
2. else the **classifier** (:mod:`bot.intent_model`) scores every rule and ``search`` (course words); a rule
   whose key phrase (``contains``) the text contains scores at least ``decision.contains``. The best rule is
   **sure** when its score reaches ``decision.sure`` and leads the runner-up by ``decision.margin``; two rules
   that are both plausible (each ≥ ``decision.clarify``, together ≥ ``decision.pair``) make a **clarify**
   decision (the bot asks which one); anything else is **unsure**, and the dispatcher's fallback searches the
   catalog, then answers with the menu.

The classifier reads the text with its **course words masked** (``※``): the short names and aliases of the
catalog and the ``search_examples`` (the lookup tables of Rasa's entity features). "幫我報 Notion AI",
"退掉時間管理" and "介紹 Power BI" are then "報 ※", "退掉 ※" and "介紹 ※": the command words decide, not
the course words, which would otherwise outweigh them and make the sentence a search. A text that is only
course words ("python") is "※", which the ``search`` examples teach is a search. Key phrases (``contains``)
are looked for in the unmasked text.

The argument of a rule the model chose is what is left when the rule's ``prefix`` / ``keywords`` words,
politeness and question words are cut ("我想上區塊鏈的課 怎麼報名" → "上區塊鏈的課"); ``argument: employee_no``
rules take the employee number in the text instead, and a sentence with no such word gives its course words
("canva那堂在教什麼" → "canva").

A text of punctuation only ("?", "？？") keeps its marks (see :func:`phrase_key`), so it can equal an
``exact`` phrase; a phrase that would fold to nothing refuses the file instead of never matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from bot.datafiles import read_yaml, validate_file
from bot.intent_model import IntentModel, train
from bot.intents_file import (
    _CODE_LIKE,
    _EMPLOYEE_NO,
    _ends_word,
    _find_word,
    _has_word,
    _IntentsFile,
    _original_span,
    _phrases,
    normalize,
    phrase_key,
)
from bot.intents_file import SEARCH as SEARCH  # re-exported: the search pseudo-rule's name
from bot.textfold import compact, fold

NORMALIZE_VERSION = 3
"""Bump when :func:`normalize` or politeness stripping changes: a model cached from the old form is then retrained."""


COURSE_MASK = "※"
"""What a course word becomes in the text the classifier reads."""
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ASCII_RUN = re.compile(r"[a-z][a-z0-9]*(?: [a-z0-9]+)*")
_MAX_CJK_WORD = 6
"""Longer Chinese names are titles nobody types whole; their aliases and search examples are the words."""


def course_words(names: Iterable[str], commands: Iterable[str], fillers: Iterable[str]) -> tuple[str, ...]:
    """The normalised course words to mask, longest first, from catalog names and search examples.

    Kept: a Chinese name of at most six characters ("區塊鏈", "勞基法"), and the ASCII words inside a Chinese
    name ("python" of "零基礎 Python 入門班", "power bi"), since English titles are sentences of ordinary
    words ("for", "management"). Dropped: anything that is a command word of a rule (英文 switches the
    language), a word inside the examples of a rule that takes no course words (改成英文, 環境教育時數), a
    name that holds a search filler ("有沒有英文課" is a sentence, not a word), and single letters.
    """
    blocked_texts = [normalize(c) for c in commands]
    blocked = set(blocked_texts)
    filler_words = [f for f in (normalize(w) for w in fillers) if f and _CJK.search(f)]
    words: set[str] = set()
    for name in names:
        spaced = normalize(name)
        if not _CJK.search(spaced):
            continue
        words.update(w for w in _ASCII_RUN.findall(spaced) if len(w) >= 2)
        if " " not in spaced and len(spaced) <= _MAX_CJK_WORD and not any(f in spaced for f in filler_words):
            words.add(spaced)
    kept = (w for w in words if w not in blocked and len(w) >= 2
            and not any(w in c for c in blocked_texts if _CJK.search(w) or f" {w} " in f" {c} "))
    return tuple(sorted(kept, key=lambda w: (-len(w), w)))


def _inside_ascii_word(m: re.Match[str]) -> bool:
    """An ASCII course word found inside a longer word ("python" in "pythonic"): not that course word."""
    start, end = m.span()
    whole = m.string
    return m.group(0).isascii() and (
        (start > 0 and whole[start - 1].isascii() and whole[start - 1].isalnum())
        or (end < len(whole) and whole[end].isascii() and whole[end].isalnum()))


@dataclass(frozen=True)
class IntentMatch:
    """The rule that matched and the rest of the text (for "報名 python" the argument is "python")."""

    name: str
    argument: str = ""
    score: float = field(default=1.0, compare=False)
    via: Literal["exact", "prefix", "model"] = field(default="exact", compare=False)
    """How it was found: an exact phrase, a prefix word, or the classifier."""


class Decision(StrEnum):
    """How sure the recognizer is about a text."""

    COMMAND = "command"
    """An exact phrase or a prefix command: always this rule."""
    SURE = "sure"
    """The classifier is sure of one rule."""
    CLARIFY = "clarify"
    """Two rules are about equally likely: ask which one."""
    UNSURE = "unsure"
    """No rule is likely enough (course words, or something the bot does not know): search, then the menu."""


@dataclass(frozen=True)
class Candidate:
    """A rule (or ``search``) and its score, 0–1."""

    name: str
    score: float


@dataclass(frozen=True)
class Understanding:
    """What the recognizer made of one text: the decision, its rule and score, the argument, the runners-up."""

    text: str
    decision: Decision
    intent: str | None
    """The rule acted on (command, sure) or the best candidate (clarify, unsure); ``search`` or None when the
    best guess is course words or there is nothing to guess from."""
    score: float
    argument: str = ""
    alternatives: tuple[Candidate, ...] = ()
    """The other candidates, best first (for clarify the first is the second option)."""
    request: bool = False
    """The text reads as a request or a question (politeness, question words, or a command-like score), so a
    failed search should not answer "no course matches"."""
    searched_first: bool = False
    """The best rule was sure but is a ``search_first`` rule and the text a bare noun: search it, and when no
    course matches, give that rule's answer along with the "no course matches"."""

    @property
    def acts(self) -> bool:
        """True when a rule should answer without asking (a command or a sure decision)."""
        return self.decision in (Decision.COMMAND, Decision.SURE) and self.intent is not None

    @property
    def options(self) -> tuple[str, ...]:
        """The two rules of a clarifying question (empty for other decisions)."""
        if self.decision != Decision.CLARIFY or self.intent is None or not self.alternatives:
            return ()
        return (self.intent, self.alternatives[0].name)

    def match(self) -> IntentMatch | None:
        """The rule to act on, or None when the recognizer is not sure."""
        if not self.acts or self.intent is None:
            return None
        return IntentMatch(self.intent, self.argument, self.score,
                           "model" if self.decision == Decision.SURE else "exact")


@dataclass(frozen=True)
class _Compiled:
    name: str
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    """Normalised (see :func:`normalize`), longest first."""
    keywords: tuple[str, ...]
    """Normalised prefixes and keywords, longest first: what is cut from a sentence to leave the argument."""
    contains: tuple[str, ...]
    strict: bool
    search_first: bool
    argument: str
    label: str | None


class IntentRecognizer:
    """Commands, the classifier and the decision thresholds of ``data/intents.yaml``."""

    def __init__(self, spec: _IntentsFile, *, search_names: Iterable[str] = (), cache_dir: Path | None = None) -> None:
        """Compile the rules and train the classifier (see :func:`bot.intent_model.train` for ``cache_dir``).

        ``search_names`` are more course words (the catalog's titles and aliases) for the ``search`` label.
        """
        self.fillers = spec.search_fillers
        self._typos = tuple(sorted(((fold(k), v) for k, v in spec.typos.items()), key=lambda kv: -len(kv[0])))
        self.decision = spec.decision
        self._rules = [_Compiled(
            name=r.name, exact=frozenset(phrase_key(p) for p in r.exact),
            prefixes=tuple(sorted({normalize(p) for p in r.prefix}, key=len, reverse=True)),
            keywords=tuple(sorted({normalize(p) for p in (*r.prefix, *r.keywords)}, key=len, reverse=True)),
            contains=tuple(compact(p) for p in r.contains), strict=r.strict, search_first=r.search_first,
            argument=r.argument, label=r.label)
            for r in spec.rules]
        self._by_name = {r.name: r for r in self._rules}
        self._number_takers = {other: r.name for r in spec.rules for other in r.with_number_of}
        self._strip = lru_cache(maxsize=4096)(self._strip_uncached)
        self._key_phrases = tuple((phrase, r.name) for r in self._rules for phrase in r.contains)
        self._leading = _phrases(spec.politeness.leading)
        self._trailing = _phrases(spec.politeness.trailing)
        self._questions = tuple(q for q in (normalize(w) for w in spec.question_words) if q)
        self._yes = frozenset(phrase_key(w) for w in spec.confirm.yes)
        self._no = frozenset(phrase_key(w) for w in spec.confirm.no)
        search_names = tuple(search_names)
        commands = [p for r in spec.rules for p in (*r.exact, *r.prefix, *r.keywords, *r.contains)]
        # The words of a rule that takes no course words are its own vocabulary (改成英文, 環境教育時數).
        commands += [p for r in spec.rules if not (r.prefix or r.keywords) for p in r.examples]
        self.course_words = course_words((*search_names, *spec.search_examples), commands, spec.search_fillers)
        self._mask = re.compile("|".join(re.escape(w) for w in self.course_words)) if self.course_words else None
        phrases = [(str(p), r.name) for r in spec.rules for p in (*r.exact, *r.prefix, *r.contains, *r.examples)]
        phrases += [(str(p), SEARCH) for p in (*spec.search_examples, *search_names)]

        def examples() -> list[tuple[str, str]]:
            return sorted({(text, label) for text, label in ((self.model_text(p), n) for p, n in phrases) if text})

        source = [phrases, spec.politeness.model_dump(), spec.typos, NORMALIZE_VERSION]
        self.model: IntentModel = train(source, examples, temperature=spec.decision.temperature, cache_dir=cache_dir)

    @classmethod
    def load(cls, path: Path, *, search_names: Iterable[str] = (), cache_dir: Path | None = None) -> IntentRecognizer:
        """Load and validate the rule file, then train the classifier (or read it from ``cache_dir``)."""
        spec = validate_file(_IntentsFile, read_yaml(path), path)
        return cls(spec, search_names=search_names, cache_dir=cache_dir)

    @property
    def names(self) -> set[str]:
        """Every rule name."""
        return set(self._by_name)

    def label_key(self, name: str) -> str | None:
        """The text key of a rule's button in a clarifying question."""
        rule = self._by_name.get(name)
        return rule.label if rule else None

    # ------------------------------------------------------------ text forms

    def strip_politeness(self, text: str, *, keep_whole: bool = True) -> tuple[str, bool]:
        """The normalised text without politeness at its ends, and whether any was cut.

        A text that would be cut to nothing is kept whole ("謝謝" alone stays "謝謝") unless ``keep_whole`` is False.
        Remembered for the last few thousand texts (one decision asks several times).
        """
        return self._strip(text, keep_whole)

    def _strip_uncached(self, text: str, keep_whole: bool) -> tuple[str, bool]:
        s = normalize(text)
        cut = False
        while True:
            before = s
            for phrase in self._leading:
                if s.startswith(phrase) and _ends_word(s, len(phrase)) and (len(s) > len(phrase) or not keep_whole):
                    s = s[len(phrase):].strip()
                    break
            for phrase in self._trailing:
                if (s.endswith(phrase) and _ends_word(s, len(s) - len(phrase))
                        and (len(s) > len(phrase) or not keep_whole)):
                    s = s[:-len(phrase)].strip()
                    break
            if s == before:
                return s, cut
            cut = True

    def plain_text(self, text: str) -> str:
        """The normalised text without politeness, employee numbers or binding codes (where key phrases are found).

        A number is an argument, not a sign of what is asked: "T0002" alone is no request, "查 T0002 的時數" is.
        """
        core = self.strip_politeness(_CODE_LIKE.sub(" ", unicodedata.normalize("NFKC", text)))[0]
        return " ".join(_EMPLOYEE_NO.sub(" ", core).split())

    def model_text(self, text: str) -> str:
        """What the classifier reads: :meth:`plain_text` with its course words masked (see the module docstring)."""
        plain = self.plain_text(text)
        if self._mask is None or not plain:
            return plain

        return " ".join(self._mask.sub(lambda m: m.group(0) if _inside_ascii_word(m) else f" {COURSE_MASK} ",
                                       plain).split())

    def _is_question(self, spaced: str) -> bool:
        return any(_has_word(spaced, q) for q in self._questions)

    # ------------------------------------------------------------ decisions

    def fix_typos(self, text: str) -> str:
        """The text with the ``typos`` of data/intents.yaml fixed ("我要報明python" → "我要報名python")."""
        if not self._typos or not any(typo in fold(text) for typo, _ in self._typos):
            return text
        fixed = text
        for typo, fix in self._typos:  # in the text as typed when it holds the typo so (keeps "Python")
            fixed = fixed.replace(typo, fix)
        if any(typo in fold(fixed) for typo, _ in self._typos):  # a simplified or full-width slip
            fixed = fold(fixed)
            for typo, fix in self._typos:
                fixed = fixed.replace(typo, fix)
        return fixed

    def command(self, text: str) -> IntentMatch | None:
        """The command the text is (an exact phrase, or a prefix and its argument), else None. No model involved."""
        text = self.fix_typos(text)
        key = phrase_key(text)
        if not key:
            return None
        for rule in self._rules:
            if key in rule.exact:
                return IntentMatch(rule.name)
        found = self._prefix_command(text)
        if found is not None:
            return found
        core, cut = self.strip_politeness(text)
        if not cut:
            return None
        core_key = phrase_key(core)
        for rule in self._rules:
            if not rule.strict and core_key in rule.exact:
                return IntentMatch(rule.name)
        return self._prefix_command(core, original=text)

    def _prefix_command(self, text: str, *, original: str | None = None) -> IntentMatch | None:
        """The longest prefix of any rule the text starts with ("取消綁定帳號" is 取消綁定, not 取消), and its rest."""
        spaced = normalize(text)
        found = [(len(p), rule.name, p) for rule in self._rules for p in rule.prefixes
                 if spaced.startswith(p) and _ends_word(spaced, len(p))]
        if not found:
            return None
        _, name, p = max(found, key=lambda f: f[0])
        rest = spaced[len(p):].strip()
        if self._is_question(rest):
            return None  # "報名時間到什麼時候": a question about 報名, not "報名 <course>"
        argument = self._clean_argument(rest)
        if not argument:
            return None  # a bare command is an exact phrase ("取消吧" is no "取消 <course>")
        return IntentMatch(name, _original_span(original or text, argument), via="prefix")

    def match(self, text: str) -> IntentMatch | None:
        """The rule to act on (a command, or a sure decision of the classifier), else None."""
        return self.understand(text).match()

    def plain_command(self, text: str) -> IntentMatch | None:
        """A command, or a rule whose key phrase the text contains ("我還差幾小時"); never a guess of the model.

        What leaves an open flow: text the flow cannot use is a command only when it plainly is one.
        """
        understood = self.understand(text)
        if understood.decision == Decision.COMMAND or (
                understood.decision == Decision.SURE and understood.intent in self._contained(self.plain_text(text))):
            return understood.match()
        return None

    def understand(self, text: str) -> Understanding:
        """Decide what ``text`` asks for (see the module docstring); typing slips are fixed first."""
        return self._with_number(self._understand(self.fix_typos(text)))

    def _with_number(self, understood: Understanding) -> Understanding:
        """A sure decision for a rule another one takes over when the text holds an employee number.

        The model never sees numbers: "T0002 還差幾小時" is a colleague's hours, not one's own.
        """
        if understood.decision != Decision.SURE or understood.intent is None:
            return understood
        taker = self._number_takers.get(understood.intent)
        if taker is None or not _EMPLOYEE_NO.search(unicodedata.normalize("NFKC", understood.text)):
            return understood
        return replace(understood, intent=taker, argument=self.argument(taker, understood.text))

    def _understand(self, text: str) -> Understanding:
        command = self.command(text)
        polite = self.strip_politeness(text)[1]
        plain = self.plain_text(text)
        model_input = self.model_text(text)
        question = self._is_question(normalize(text)) or "?" in text or "？" in text
        ranked = self._ranked(model_input, plain) if model_input else []
        if command is not None and (command.via == "exact" or self._prefix_holds(command.name, plain, ranked)):
            return Understanding(text, Decision.COMMAND, command.name, 1.0, command.argument,
                                 tuple(c for c in ranked if c.name != command.name)[:3], request=True)
        if not model_input:
            return Understanding(text, Decision.UNSURE, None, 0.0)
        holds = self._contained(plain)
        contained = [c for c in ranked if c.name in holds]
        if len(contained) == 1:  # a key phrase ("還差幾小時") decides, whatever else the sentence says
            best = contained[0]
            others = tuple(c for c in ranked if c is not best)[:3]
            return Understanding(text, Decision.SURE, best.name, best.score, self.argument(best.name, text), others,
                                 True)
        best, rest = ranked[0], ranked[1:]
        second = rest[0] if rest else Candidate(SEARCH, 0.0)
        d = self.decision
        top_rule_score = max((c.score for c in ranked if c.name != SEARCH), default=0.0)
        request = polite or question or top_rule_score >= d.clarify
        if best.name == SEARCH:
            return Understanding(text, Decision.UNSURE, SEARCH, best.score, text.strip(), tuple(rest[:3]), request)
        sure = best.score >= d.sure and best.score - second.score >= d.margin
        if sure and self._by_name[best.name].search_first and not (polite or question):
            # "加班費" may be the labour-law course: a bare noun of such a rule is searched first.
            return Understanding(text, Decision.UNSURE, best.name, best.score, text.strip(), tuple(rest[:3]), True,
                                 searched_first=True)
        if sure and not (second.name != SEARCH and second.score >= d.clarify
                         and self._names_command_of(second.name, plain)):
            return Understanding(text, Decision.SURE, best.name, best.score, self.argument(best.name, text),
                                 tuple(rest[:3]), True)
        if sure:  # "上課報名": the runner-up is plausible and its own command word is in the text: ask
            return Understanding(text, Decision.CLARIFY, best.name, best.score, "", tuple(rest[:3]), True)
        if (second.name != SEARCH and best.score >= d.clarify and second.score >= d.clarify
                and best.score + second.score >= d.pair):
            return Understanding(text, Decision.CLARIFY, best.name, best.score, "", tuple(rest[:3]), True)
        return Understanding(text, Decision.UNSURE, best.name, best.score, text.strip(), tuple(rest[:3]), request)

    def _names_command_of(self, name: str, plain: str) -> bool:
        """Whether the text holds one of rule ``name``'s exact phrases of two or more characters as a word."""
        rule = self._by_name[name]
        if name in self._number_takers or name in self._number_takers.values():
            return False  # "查T0002時數": one's own hours or a colleague's is decided by the number, not asked
        key = compact(plain)
        spaced = f" {plain} "
        return any(len(p) >= 2 and (p in key if _CJK.search(p) else f" {p} " in spaced)
                   for p in rule.exact if not p.startswith("/"))

    def _prefix_holds(self, name: str, plain: str, ranked: list[Candidate]) -> bool:
        """Whether a prefix command stands: not against another rule's key phrase or a sure model.

        "報名狀態" holds the key phrase of my enrollments; in "報名的課要取消" the model is sure of cancelling and
        gives enrolling little chance. Course words never overrule it: they are what it takes ("報名 Power BI").
        """
        contained = self._contained(plain)
        if contained and name not in contained:
            return False
        rules = [c for c in ranked if c.name != SEARCH]  # course words are what a prefix command takes
        if not rules or rules[0].name == name:
            return True
        own = next((c.score for c in rules if c.name == name), 0.0)
        return not (rules[0].score >= self.decision.sure and own < self.decision.clarify)

    def _ranked(self, model_input: str, plain: str, *, exclude: str | None = None) -> list[Candidate]:
        """Every label with its score, best first: the model's (of the masked text), raised for a key phrase."""
        scores = dict(self.model.scores(model_input)) if model_input else {}
        for name in self._contained(plain):
            scores[name] = max(scores.get(name, 0.0), self.decision.contains)
        ranked = sorted((Candidate(n, s) for n, s in scores.items() if n != exclude),
                        key=lambda c: (-c.score, c.name))
        return ranked

    def _contained(self, model_input: str) -> set[str]:
        """The rules whose key phrases (``contains``) occur in the text."""
        key = compact(model_input)
        return {name for phrase, name in self._key_phrases if phrase in key}

    # ------------------------------------------------------------ arguments and answers

    def argument(self, name: str, text: str) -> str:
        """The argument of rule ``name`` in ``text``: the course words, the employee number … ("" when none)."""
        rule = self._by_name.get(name)
        if rule is None:
            return ""
        command = self.command(text)
        if command is not None and command.name == name:
            return command.argument
        if rule.argument == "employee_no":
            number = _EMPLOYEE_NO.search(unicodedata.normalize("NFKC", text))
            return number.group(0).upper() if number else ""
        spaced = normalize(text)
        for word in rule.keywords:
            at = _find_word(spaced, word)
            if at < 0:
                continue
            words = self._clean_argument(spaced[at + len(word):]) or self._clean_argument(spaced[:at])
            return _original_span(text, words)
        if rule.keywords and self._mask is not None:  # "canva那堂在教什麼": the course words
            for course in self._mask.finditer(spaced):
                if not _inside_ascii_word(course):
                    return _original_span(text, course.group(0))
        return ""

    def _clean_argument(self, spaced: str) -> str:
        """Normalised words without politeness and question words at their ends."""
        core = self.strip_politeness(spaced, keep_whole=False)[0]
        changed = True
        while core and changed:
            changed = False
            for q in self._questions:
                if core.endswith(q) and _ends_word(core, len(core) - len(q)) and len(core) > len(q):
                    core, changed = core[:-len(q)].strip(), True
                    break
        return "" if core in self._questions else core

    def confirm_answer(self, text: str, yes_label: str, no_label: str) -> Literal["yes", "no"] | None:
        """At a confirmation card: "yes" for a yes word or its first button's label (or its start), "no" likewise."""
        key = phrase_key(text)
        if not key:
            return None
        core = phrase_key(self.strip_politeness(text)[0])

        def names(label: str) -> bool:  # the label, or its first two or more characters (送出 for 送出申請)
            whole = phrase_key(label)
            return key == whole or (len(key) >= 2 and whole.startswith(key))

        if names(yes_label) or key in self._yes or core in self._yes:
            return "yes"
        if names(no_label) or key in self._no or core in self._no:
            return "no"
        return None


