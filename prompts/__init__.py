"""Prompt templates as files, loaded into a strict model: a missing or unknown variable is an error.

A file is Markdown with one `## name` heading per message template; text before the first heading
is a comment for humans. Placeholders are `{{variable}}`. The version hash of a prompt is the
sha256 of its file, recorded in every assessment, draft and ledger row.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources

from pydantic import BaseModel

_VAR = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


class PromptError(ValueError):
    """A prompt file is malformed or was rendered with the wrong variables."""


class Prompt(BaseModel):
    """One prompt file: named templates and the hash that versions them."""

    name: str
    sections: dict[str, str]
    hash: str

    def variables(self, section: str) -> set[str]:
        return set(_VAR.findall(self.section(section)))

    def section(self, section: str) -> str:
        try:
            return self.sections[section]
        except KeyError:
            raise PromptError(f"prompt {self.name!r} has no section {section!r}") from None

    def render(self, section: str, **values: object) -> str:
        """Fill a section; every placeholder must be given and every value used."""
        text = self.section(section)
        wanted = self.variables(section)
        missing = wanted - values.keys()
        extra = values.keys() - wanted
        if missing or extra:
            raise PromptError(
                f"prompt {self.name}#{section}: missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        return _VAR.sub(lambda m: str(values[m.group(1)]), text).strip()


def parse(name: str, text: str) -> Prompt:
    """Parse a prompt file's text."""
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        m = re.fullmatch(r"##\s+([a-z_]+)\s*", line)
        if m:
            if current:
                sections[current] = "\n".join(lines).strip()
            current, lines = m.group(1), []
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).strip()
    if not sections:
        raise PromptError(f"prompt {name!r} has no '## section' headings")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Prompt(name=name, sections=sections, hash=digest)


@cache
def load(name: str) -> Prompt:
    """Load `prompts/<name>.md` from the package."""
    try:
        text = resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"no prompt file {name}.md") from None
    return parse(name, text)
