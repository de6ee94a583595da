"""Account operations: is the token good, and for which stack."""

from __future__ import annotations

from pydantic import Field

from tools.models import AuthenticationResponse, Project
from tools.outputs import Output
from tools.phrasing import Phrases
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation


class AccessCheck(Output):
    ok: bool = True
    stack_id: int
    default_project_id: int | None = None
    api_url: str
    message: str

    def text(self) -> str:
        return self.message


class CheckAuthInput(InputModel):
    stack_url: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^https?://\S+$",
        description="e.g. https://mystack.grafana.net (default: K6_CLOUD_STACK_URL).",
    )


@operation(
    name="check_auth",
    title="Check the API token and stack",
    group="account",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/auth", api="auth")],
    errors={
        401: "k6 Cloud did not accept the API token (401). Check K6_CLOUD_TOKEN.",
        403: "The API token has no access to that stack (403). Check K6_CLOUD_STACK_ID / K6_CLOUD_STACK_URL.",
    },
    phrases=Phrases(
        verbs=(
            "check",
            "test",
            "verify",
            "ping",
            "whoami",
            "who am i",
            "who am i logged in as",
            "who am i connected as",
            "who am i signed in as",
            "doctor",
            "is … working",
            "does … work",
            "does … still work",
            "is … valid",
            "is … ok",
            "am i logged in",
            "am i signed in",
            "am i authenticated",
            "am i connected",
            "are we logged in",
            "are we connected",
        ),
        nouns=(
            "auth",
            "authentication",
            "token",
            "connection",
            "access",
            "setup",
            "credentials",
            "stack",
            "working",
            "works",
            "valid",
            "reachable",
            "api reachable",
            "online",
            "token working",
            "does my token work",
            "api token",
            "api key",
            "key",
            "works",
            "still works",
            "work",
            "credentials work",
        ),
        examples={"check auth": {}, "whoami": {}, "verify the token": {}},
        template="check auth",
    ),
    description="""
    Check that the API token works and which stack (and default project) it reaches; use it on a 401 or 403.
    """,
)
async def check_auth(ctx: OpContext, args: CheckAuthInput) -> AccessCheck:
    stack_url = args.stack_url or ctx.client.settings.stack_url
    if stack_url:
        auth: AuthenticationResponse = await ctx.client.authenticate(stack_url)
        return AccessCheck(
            stack_id=auth.stack_id,
            default_project_id=auth.default_project_id,
            api_url=ctx.client.api_url,
            message=f"The token works for stack {auth.stack_id} ({stack_url}); default project {auth.default_project_id}.",
        )
    stack_id = await ctx.client.stack_id()
    projects = await ctx.client.collect(Project, "/cloud/v6/projects", limit=1000)
    default = next((p.id for p in projects if p.is_default), None)
    return AccessCheck(
        stack_id=stack_id,
        default_project_id=default,
        api_url=ctx.client.api_url,
        message=f"The token works for stack {stack_id}: {len(projects)} project(s) visible"
        + (f", default project {default}." if default else "."),
    )
