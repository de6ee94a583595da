"""What a tool call returns: structured content that fits the declared output schema, and a short text."""

from __future__ import annotations

import base64
from typing import Any, Literal

from mcp_types import CallToolResult, ElicitRequest, ImageContent, InputRequiredResult, TextContent
from pydantic import BaseModel, Field

from bot.scrub import scrub, scrub_data
from tools.describe import describe
from tools.errors import Candidate
from tools.outputs import attachments_of
from tools.registry import Operation, Prepared, RefKind

from .schemas import output_schema

Outcome = Literal["done", "declined", "cancelled", "needs_confirmation", "ambiguous"]


class PreviewOut(BaseModel):
    confirmation: str
    notes: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, prepared: Prepared) -> PreviewOut:
        return cls(confirmation=prepared.confirmation, notes=list(prepared.notes))


class CandidateOut(BaseModel):
    id: int
    name: str
    project_id: int
    project_name: str | None = None

    @classmethod
    def of(cls, candidate: Candidate) -> CandidateOut:
        return cls(
            id=candidate.id,
            name=candidate.name,
            project_id=candidate.project_id,
            project_name=candidate.project_name,
        )

    def label(self) -> str:
        return f"{self.name} (id {self.id}, {self.project_name or f'project {self.project_id}'})"


class ConfirmOutcome(BaseModel):
    """The structured content of every run / stop / admin tool."""

    outcome: Outcome
    message: str
    preview: PreviewOut | None = None
    candidates: list[CandidateOut] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    repeat: bool = False
    """True when an identical confirmed call already did this: ``result`` is that first call's result."""


def confirm_output_schema(op: Operation) -> dict[str, Any]:
    """The wrapper schema; ``result`` is the operation's own output, declared by its top-level fields only.

    Thirty-odd run / stop / admin tools share this wrapper, so its nested objects stay plain objects: their
    fields are in the tool's text answer and in ``get_*`` tools' schemas, and ``tools/list`` stays small.
    """
    schema = output_schema(ConfirmOutcome)
    schema["properties"]["candidates"] = {"type": "array"}  # of {id, name, project_id, project_name}: the text says
    schema["properties"]["result"] = output_schema(op.output, depth=0)
    # The outcomes are explained once, in the server instructions, not in thirty-odd copies of this schema.
    schema["properties"]["outcome"] = {"type": "string"}
    if RefKind.LOAD_TEST not in op.ref_fields().values():  # only a load test named in words can be ambiguous
        del schema["properties"]["candidates"]
    return schema


def structured(model: BaseModel) -> dict[str, Any]:
    """A model as structured content: JSON, with unset (None) fields left out — the schemas declare no nulls."""
    return model.model_dump(mode="json", exclude_none=True)


def text_result(text: str, structured: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def model_result(result: BaseModel) -> CallToolResult:
    """A read or write operation's result: its JSON as structured content, its text for people, and any image
    it carries (a chart) as image content next to the text."""
    answer = text_result(describe(result), structured(result))
    for attachment in attachments_of(result):
        if attachment.is_image:
            data = base64.b64encode(attachment.data).decode("ascii")
            answer.content.append(ImageContent(type="image", data=data, mime_type=attachment.mime_type))
    return answer


def outcome_result(outcome: ConfirmOutcome, text: str | None = None) -> CallToolResult:
    return text_result(text or outcome.message, structured(outcome))


def error_result(sentence: str) -> CallToolResult:
    """A tool error the model reads: exactly the sentence, no prefix, no traceback."""
    return CallToolResult(content=[TextContent(type="text", text=sentence)], is_error=True)


def scrubbed(answer: CallToolResult | InputRequiredResult) -> CallToolResult | InputRequiredResult:
    """The answer with secrets scrubbed from its texts, its structured content and any question it asks."""
    if isinstance(answer, CallToolResult):
        answer.content = [
            block.model_copy(update={"text": scrub(block.text)}) if isinstance(block, TextContent) else block
            for block in answer.content
        ]
        if answer.structured_content is not None:
            answer.structured_content = scrub_data(answer.structured_content)
        return answer
    for request in (answer.input_requests or {}).values():
        if isinstance(request, ElicitRequest) and hasattr(request.params, "message"):
            request.params.message = scrub(request.params.message)
    return answer
