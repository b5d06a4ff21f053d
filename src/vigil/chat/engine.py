"""A chat turn from request to stored answer.

1. prepare (one transaction): resolve the connector's model and the system prompt, load the
   conversation's history, create the conversation or append the user's message.
2. run the agent, streaming its events to the caller.
3. record (one transaction): append the answer (or an `isError` message) with its tool rounds,
   citations and token usage.

A crash between 1 and 3 leaves the user's message without an answer, never half a message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar, cast

from anyio import CancelScope, to_thread
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from sqlalchemy.orm import Session

from vigil.agent.events import AgentEvent, TextDelta, TokenUsage, TurnFailed, TurnFinished
from vigil.agent.references import ReferenceStore
from vigil.agent.runner import TurnRequest, run_turn
from vigil.agent.tools import AssistantTool, ToolContext, ToolRegistry
from vigil.agent.transcript import TranscriptMessage
from vigil.anonymization import FieldPolicy
from vigil.anonymization.fields.service import space_field_rules
from vigil.auth.principal import Principal
from vigil.chat.redaction import SourceMessage, TurnRedactor, new_anonymizer, policy_from_rules
from vigil.chat.schemas import ChatCompleteProps, ChatMessage
from vigil.conversations import schemas as conversation_schemas
from vigil.conversations import service as conversations
from vigil.conversations.models import ConversationMessage
from vigil.conversations.service import DEFAULT_TITLE, MessageExtras
from vigil.datasource import DataSource
from vigil.db.base import utcnow
from vigil.db.engine import Database
from vigil.db.read_cache import CONFIG_TABLES, ReadCache
from vigil.errors import BadRequest
from vigil.investigation.alerts_to_analyze import alerts_to_analyze
from vigil.investigation.attached import cite_attached_alert
from vigil.knowledge_base.context import (
    PROMPTED_TOOL_CONNECTORS,
    RequiredEntry,
    required_entries,
    sources_footer,
    turn_knowledge,
)
from vigil.knowledge_base.runtime import KnowledgeBase
from vigil.settings import Settings

logger = logging.getLogger("vigil.chat")

T = TypeVar("T")


@dataclass(frozen=True)
class ResolvedModel:
    model: Model
    connector_id: str
    action_type_id: str
    history_token_budget: int
    model_settings: ModelSettings | None = None


class ModelResolver(Protocol):
    def __call__(
        self, session: Session, space_id: str, connector_id: str, model_override: str | None
    ) -> ResolvedModel: ...


SystemPromptResolver = Callable[[Session, Principal, str, str | None], str]


@dataclass
class PreparedTurn:
    resolved: ResolvedModel
    system_prompt: str  # already anonymized, like everything below
    history: list[TranscriptMessage]
    user_prompt: str
    conversation_id: str | None
    redactor: TurnRedactor
    needs_title: bool
    alerts_to_analyze: int
    # Citations the context already offers (required entries, retrieved passages); tools add theirs.
    references: ReferenceStore = field(default_factory=ReferenceStore)
    source_markers: list[str] = field(default_factory=list)  # passages given up front, see sources_footer
    # The turn's tools, made with the prepare transaction (some exist per space and caller).
    tools: list[AssistantTool] | None = None
    trace_data: dict[str, str] = field(
        default_factory=lambda: {"transactionId": uuid.uuid4().hex[:16], "traceId": uuid.uuid4().hex}
    )


@dataclass(frozen=True)
class TurnOutcome:
    text: str
    is_error: bool
    usage: TokenUsage = field(default_factory=TokenUsage)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    references: dict[str, dict[str, Any]] = field(default_factory=dict)


class _NotCached(Exception):
    """`prepare_cached` needs something the cache does not hold."""


# `prepare_cached` runs without a session: with `since` None nothing is ever loaded, so this
# stands in for the session argument and is never used.
_NO_SESSION = cast(Session, None)


# Anonymizing a turn's texts is CPU work proportional to their size: on the event loop it would
# hold every open stream up, so only small turns without attached documents are prepared there.
_EVENT_LOOP_MAX_CHARS = 16_000


def _light(body: ChatCompleteProps) -> bool:
    if any(m.data for m in body.messages):
        return False
    return sum(len(m.content or "") for m in body.messages) <= _EVENT_LOOP_MAX_CHARS


def _check_last_message(body: ChatCompleteProps) -> None:
    last = body.messages[-1]
    if last.role != "user":
        raise BadRequest("[request body]: messages: the last message must be the user's (role: user)")
    if not (last.content or last.data):
        raise BadRequest("[request body]: messages: the last message needs content or data")


def stored_message(row: ConversationMessage) -> SourceMessage:
    return SourceMessage(
        role=row.role,
        content=row.content,
        data=row.data,
        fields_to_anonymize=row.fields_to_anonymize,
        rounds=tuple(row.rounds or ()),
        is_error=bool(row.is_error),
    )


def request_message(message: ChatMessage) -> SourceMessage:
    return SourceMessage(message.role, message.content or "", message.data, message.fields_to_anonymize)


def _now_stamp() -> str:
    return conversations.kibana_timestamp(utcnow())


class ChatEngine:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        tools: ToolRegistry,
        resolve_model: ModelResolver,
        resolve_system_prompt: SystemPromptResolver,
        data_source: DataSource | None = None,
        knowledge: KnowledgeBase | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.tools = tools
        self.resolve_model = resolve_model
        self.resolve_system_prompt = resolve_system_prompt
        self.data_source = data_source
        self.knowledge = knowledge
        # The configuration every turn reads (vigil.db.read_cache: writes here invalidate it at
        # once, other servers' writes within `chat_config_cache_seconds`).
        self.config = ReadCache(settings.chat_config_cache_seconds, CONFIG_TABLES)
        self._background: set[asyncio.Task[None]] = set()

    # -- 1. prepare --------------------------------------------------------------------------------

    def prepare(self, principal: Principal, space_id: str, body: ChatCompleteProps) -> PreparedTurn:
        _check_last_message(body)
        # Taken before the transaction starts: what it reads is cached only if no configuration
        # was written meanwhile (vigil.db.read_cache).
        since = self.config.snapshot()
        # A turn that stores nothing only reads: on SQLite a read-write session would take the
        # write lock (BEGIN IMMEDIATE) and queue every concurrent turn behind it.
        with self.database.session(readonly=not body.persist) as session:
            if body.conversationId:
                resolved = self._resolved_model(session, since, space_id, body)
                return self._continue(session, since, principal, space_id, body, resolved)
            return self._new_turn(session, since, principal, space_id, body)

    def prepare_cached(self, principal: Principal, space_id: str, body: ChatCompleteProps) -> PreparedTurn | None:
        """`prepare` without the database, for a new `persist: false` turn whose configuration is
        all cached: it can run on the event loop, no worker-thread trip. None: `prepare` must run."""
        if body.persist or body.conversationId or not self.config.enabled or not _light(body):
            return None
        _check_last_message(body)
        try:
            return self._new_turn(_NO_SESSION, None, principal, space_id, body)
        except _NotCached:
            return None

    def _new_turn(
        self, session: Session, since: int | None, principal: Principal, space_id: str, body: ChatCompleteProps
    ) -> PreparedTurn:
        last = body.messages[-1]
        resolved = self._resolved_model(session, since, space_id, body)
        system_prompt = self._system_prompt(session, since, principal, space_id, body.promptId)
        references = ReferenceStore()
        system_prompt, markers = self._with_knowledge(
            session, since, principal, space_id, system_prompt, last.content or "", resolved, references
        )
        redactor = self._redactor(session, since, space_id, {}, writable=body.persist)
        messages = [request_message(m) for m in body.messages]
        redactor.register_documents(messages)
        conversation_id = None
        if body.persist:
            conversation_id = self._create(session, principal, space_id, body, resolved).id
        return PreparedTurn(
            resolved=resolved,
            system_prompt=redactor.text(system_prompt),
            history=redactor.transcript(messages[:-1]),
            user_prompt=redactor.render(messages[-1]) + cite_attached_alert(last.data, references),
            conversation_id=conversation_id,
            redactor=redactor,
            needs_title=body.persist,
            # A conversation created by this transaction has no stored setting yet: no read.
            alerts_to_analyze=self._alerts_to_analyze(
                session, conversation_id if body.size is not None else None, body
            ),
            references=references,
            source_markers=markers,
            tools=self._tools(session, since, principal, space_id),
        )

    # -- the configuration a turn reads, cached (keys start with what they are) --------------------

    def _cached(
        self, key: Hashable, since: int | None, load: Callable[[], T], cacheable: Callable[[T], bool] | None = None
    ) -> T:
        """`since` None: no database (`prepare_cached`), so the cache or `_NotCached`."""
        if since is None:
            value: T | None = self.config.get(key)
            if value is None:
                raise _NotCached
            return value
        return self.config.get_or_load(key, since, load, cacheable=cacheable)

    def _resolved_model(
        self, session: Session, since: int | None, space_id: str, body: ChatCompleteProps
    ) -> ResolvedModel:
        return self._cached(
            ("model", space_id, body.connectorId, body.model),
            since,
            lambda: self.resolve_model(session, space_id, body.connectorId, body.model),
        )

    def _system_prompt(
        self, session: Session, since: int | None, principal: Principal, space_id: str, prompt_id: str | None
    ) -> str:
        return self._cached(
            ("system-prompt", space_id, principal.user_id, prompt_id),
            since,
            lambda: self.resolve_system_prompt(session, principal, space_id, prompt_id),
        )

    def _field_policy(self, session: Session, since: int | None, space_id: str, *, writable: bool) -> FieldPolicy:
        def load() -> tuple[FieldPolicy, bool]:
            rules = space_field_rules(session, space_id)
            return policy_from_rules(rules.rules), rules.stored

        policy, stored = self._cached(("field-policy", space_id), since, load)
        if not stored and writable:
            # The shipped defaults of a space never seeded, read by a `persist: false` turn: this
            # turn writes, so it seeds the space as an uncached read would (the write empties
            # the cache).
            policy, stored = load()
        return policy

    def _required_entries(
        self, session: Session, since: int | None, principal: Principal, space_id: str
    ) -> tuple[RequiredEntry, ...]:
        return self._cached(
            ("required-entries", space_id, principal.user_id),
            since,
            lambda: required_entries(session, principal, space_id),
        )

    def _tools(self, session: Session, since: int | None, principal: Principal, space_id: str) -> list[AssistantTool]:
        # The same tool objects from turn to turn: their JSON schemas are generated once.
        tools = self._cached(
            ("tools", space_id, principal),
            since,
            lambda: tuple(self.tools.for_turn(session, principal, space_id)),
        )
        return list(tools)

    def _alerts_to_analyze(
        self, session: Session, conversation_id: str | None, body: ChatCompleteProps, *, remember: bool = True
    ) -> int:
        default = self.settings.assistant_alerts_to_analyze
        return alerts_to_analyze(session, conversation_id, body.size, default, remember=remember)

    def _redactor(
        self, session: Session, since: int | None, space_id: str, replacements: dict[str, str], *, writable: bool
    ) -> TurnRedactor:
        policy = self._field_policy(session, since, space_id, writable=writable)
        return TurnRedactor(new_anonymizer(self.settings, replacements), policy)

    def _create(
        self, session: Session, principal: Principal, space_id: str, body: ChatCompleteProps, resolved: ResolvedModel
    ) -> Any:
        stamp = _now_stamp()
        props = conversation_schemas.ConversationCreateProps(
            title=DEFAULT_TITLE,
            messages=[
                conversation_schemas.Message(role=m.role, content=m.content or "", timestamp=stamp)
                for m in body.messages
            ],
            apiConfig=conversation_schemas.ApiConfig(
                connectorId=resolved.connector_id,
                actionTypeId=resolved.action_type_id,
                model=body.model,
                defaultSystemPromptId=body.promptId,
            ),
        )
        extras = [MessageExtras(data=m.data, fields_to_anonymize=m.fields_to_anonymize) for m in body.messages]
        return conversations.create(session, principal, space_id, props, extras=extras)

    def _continue(
        self,
        session: Session,
        since: int,
        principal: Principal,
        space_id: str,
        body: ChatCompleteProps,
        resolved: ResolvedModel,
    ) -> PreparedTurn:
        """An existing conversation: its stored history, plus the request's last message."""
        assert body.conversationId is not None
        if body.persist:
            conversation = conversations.get_owned(session, principal, space_id, body.conversationId, lock=True)
        else:
            conversation = conversations.get_visible(session, principal, space_id, body.conversationId)
        rows = conversations.load_messages(session, [conversation.id])[conversation.id]
        prompt_id = body.promptId or (conversation.api_config or {}).get("defaultSystemPromptId")
        system_prompt = self._system_prompt(session, since, principal, space_id, prompt_id)
        last = body.messages[-1]
        references = ReferenceStore()
        system_prompt, markers = self._with_knowledge(
            session, since, principal, space_id, system_prompt, last.content or "", resolved, references
        )
        if body.persist:
            message = conversation_schemas.Message(role="user", content=last.content or "", timestamp=_now_stamp())
            extras = MessageExtras(data=last.data, fields_to_anonymize=last.fields_to_anonymize)
            conversations.append_messages(session, principal, space_id, conversation.id, [message], extras=[extras])
        redactor = self._redactor(
            session, since, space_id, dict(conversation.replacements or {}), writable=body.persist
        )
        history = [stored_message(row) for row in rows]
        current = request_message(last)
        redactor.register_documents([*history, current])
        return PreparedTurn(
            resolved=resolved,
            system_prompt=redactor.text(system_prompt),
            history=redactor.transcript(history),
            user_prompt=redactor.render(current) + cite_attached_alert(last.data, references),
            conversation_id=conversation.id if body.persist else None,
            redactor=redactor,
            needs_title=body.persist and conversation.title == DEFAULT_TITLE,
            # Someone else's shared conversation is read, never changed: its setting applies, the
            # request's `size` only to this turn.
            alerts_to_analyze=self._alerts_to_analyze(session, conversation.id, body, remember=body.persist),
            references=references,
            source_markers=markers,
            tools=self._tools(session, since, principal, space_id),
        )

    def _with_knowledge(
        self,
        session: Session,
        since: int | None,
        principal: Principal,
        space_id: str,
        system_prompt: str,
        question: str,
        resolved: ResolvedModel,
        references: ReferenceStore,
    ) -> tuple[str, list[str]]:
        """The system prompt plus the knowledge base's part: `required` entries, and for models
        without native tool calls the passages retrieved for the question (vigil.knowledge_base.context)."""
        if self.knowledge is None:
            return system_prompt, []
        prompted = resolved.action_type_id in PROMPTED_TOOL_CONNECTORS
        if prompted and since is None:
            raise _NotCached  # passages are retrieved for every question: not without the database
        required = self._required_entries(session, since, principal, space_id)
        part = turn_knowledge(
            self.knowledge, required, principal, space_id, question, references, prompted_tools=prompted
        )
        return "\n\n".join(p for p in (system_prompt, part.text) if p), part.source_markers

    # -- 2. run ------------------------------------------------------------------------------------

    async def run(
        self, principal: Principal, space_id: str, prepared: PreparedTurn, response_language: str | None
    ) -> AsyncIterator[AgentEvent]:
        context = ToolContext(
            principal=principal,
            space_id=space_id,
            conversation_id=prepared.conversation_id,
            database=self.database,
            settings=self.settings,
            data_source=self.data_source,
            privacy=prepared.redactor,
            alerts_to_analyze=prepared.alerts_to_analyze,
            references=prepared.references,
        )
        request = TurnRequest(
            model=prepared.resolved.model,
            system_prompt=prepared.system_prompt,
            history=prepared.history,
            user_prompt=prepared.user_prompt,
            tools=prepared.tools if prepared.tools is not None else self.tools.for_principal(principal),
            context=context,
            step_limit=self.settings.agent_step_limit,
            history_token_budget=prepared.resolved.history_token_budget,
            response_language=response_language,
            model_settings=prepared.resolved.model_settings,
            redact=prepared.redactor.text,
            restore=prepared.redactor.restore,
        )
        async for event in run_turn(request):
            if isinstance(event, TurnFinished) and prepared.source_markers:
                footer = sources_footer(event.text, prepared.source_markers)
                if footer:
                    yield TextDelta(footer)
                    text = event.text + footer
                    event = replace(event, text=text, references=context.references.cited_in(text))
            yield event

    # -- 3. record ---------------------------------------------------------------------------------

    def record(self, principal: Principal, space_id: str, prepared: PreparedTurn, outcome: TurnOutcome) -> None:
        if prepared.conversation_id is None:
            return
        metadata = {"contentReferences": outcome.references} if outcome.references else None
        message = conversation_schemas.Message(
            role="assistant",
            content=outcome.text,
            timestamp=_now_stamp(),
            isError=True if outcome.is_error else None,
            traceData=conversation_schemas.TraceData(**prepared.trace_data),
            metadata=conversation_schemas.MessageMetadata.model_validate(metadata) if metadata else None,
        )
        extras = MessageExtras(
            rounds=outcome.rounds or None,
            prompt_tokens=outcome.usage.prompt_tokens,
            completion_tokens=outcome.usage.completion_tokens,
        )
        with self.database.session() as session:
            conversations.append_messages(
                session,
                principal,
                space_id,
                prepared.conversation_id,
                [message],
                extras=[extras],
                replacements=prepared.redactor.anonymizer.replacements,
                refresh=False,  # the stored conversation is not looked at again
            )

    async def record_async(
        self, principal: Principal, space_id: str, prepared: PreparedTurn, outcome: TurnOutcome
    ) -> None:
        if prepared.conversation_id is None:
            return  # persist: false; nothing to store, so no trip to a worker thread
        # Shielded: a client that hangs up must not stop the answer (or the error) being stored.
        with CancelScope(shield=True):
            await to_thread.run_sync(self.record, principal, space_id, prepared, outcome)
            if prepared.needs_title and not outcome.is_error and self.settings.chat_generate_titles:
                self._start_title(principal, space_id, prepared)

    # -- titles ------------------------------------------------------------------------------------

    def _start_title(self, principal: Principal, space_id: str, prepared: PreparedTurn) -> None:
        from vigil.chat.titles import generate_title

        task = asyncio.get_running_loop().create_task(generate_title(self, principal, space_id, prepared))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Waits for background work (titles); used at shutdown and by tests."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)


def outcome_from(event: TurnFinished | TurnFailed) -> TurnOutcome:
    if isinstance(event, TurnFinished):
        return TurnOutcome(
            text=event.text, is_error=False, usage=event.usage, rounds=event.rounds, references=event.references
        )
    text = event.message if not event.text_so_far else f"{event.text_so_far}\n\n{event.message}"
    return TurnOutcome(text=text, is_error=True)
