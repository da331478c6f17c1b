"""The worker process of test_polls_concurrency. It lives apart from the test module so that
a spawned process imports nothing but the wiki: the test module imports ``conftest``, and which
``conftest`` a child finds first on its path depends on how pytest ordered ``sys.path``."""

from __future__ import annotations

import threading

PER_WORKER = 10


def vote_worker(config: dict, password: str, token: str, start, out) -> None:
    """One process: PER_WORKER threads vote as ``mia`` in the secret poll, PER_WORKER threads
    replay ``token`` in the named poll, all released at once."""
    from wiki import create_app

    app = create_app(config)
    state = app.extensions["wiki"]
    try:
        jobs = []
        for _ in range(PER_WORKER):
            member = app.test_client()
            login = member.post("/-/login", data={"handle": "mia", "password": password})
            assert login.status_code == 302
            jobs.append((member, "geheim", {"choice": "fr"}))
            jobs.append((app.test_client(), "offen", {"choice": "sa", "token": token}))
        # Warm the per-process caches (the spaces plugin loads its tree once, through a second
        # connection) so that the threads below meet at the database, not at the pool.
        assert jobs[0][0].get("/-/polls/geheim").status_code == 200
        codes: list[tuple[str, int]] = []
        barrier = threading.Barrier(len(jobs))

        def run(client, poll_id, data):
            barrier.wait(timeout=60)
            response = client.post(f"/-/polls/{poll_id}/vote", data=data)
            codes.append((poll_id, response.status_code))

        threads = [threading.Thread(target=run, args=job) for job in jobs]
        start.wait(timeout=120)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        out.put(codes)
    finally:
        state.search.wait_idle()
        state.search.close()
        state.store.close()
        state.engine.dispose()
