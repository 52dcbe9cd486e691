"""Record the wire cassettes from the real embedded llama.cpp server (needs the `local` extra).

`python -m tests.record_cassettes [triage_logprob triage_generated writer critic]`: all of them,
or only those named (critic alone replays the writer's draft from its cassette).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import vcr

from flashnews.config import Settings
from flashnews.tools.llm import Models
from flashnews.tools.local_model import LocalServer, assemble
from flashnews.tools.store import Store
from tests import wire


def main() -> None:
    wanted = set(sys.argv[1:]) or {"triage_logprob", "triage_generated", "writer", "critic"}
    home = Path(tempfile.mkdtemp(prefix="flashnews-record-"))
    model = assemble(Settings().home / "models")
    recorder = vcr.VCR(record_mode="all", **wire.VCR_CONFIG)
    with LocalServer(model, log_path=home / "server.log", n_ctx=4096,
                     threads=Settings().local_threads) as server:
        settings = wire.wire_settings(home, server.base_url)
        store = Store(settings.db_path)
        models = Models(settings, store, "wire")
        if "triage_logprob" in wanted:
            with recorder.use_cassette(str(wire.CASSETTES / "triage_logprob.yaml")):
                print(wire.triage_logprob(models, store))
        if "triage_generated" in wanted:
            with recorder.use_cassette(str(wire.CASSETTES / "triage_generated.yaml")):
                print(wire.triage_generated(models, store))
        if wanted & {"writer", "critic"}:
            # critic alone: the writer's draft is replayed from its cassette.
            replay = recorder if "writer" in wanted else vcr.VCR(record_mode="none",
                                                                 **wire.VCR_CONFIG)
            with replay.use_cassette(str(wire.CASSETTES / "writer.yaml")):
                draft = wire.writer_draft(models)
                print(draft.markdown)
            with recorder.use_cassette(str(wire.CASSETTES / "critic.yaml")):
                print(wire.critic_review(models, draft))
        print("usage:", store.usage("wire"))


if __name__ == "__main__":
    main()
