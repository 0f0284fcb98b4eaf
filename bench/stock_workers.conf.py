"""bench/ceiling.conf.py with gunicorn's own worker classes instead of the
project's (deploy/gthread_worker.py, deploy/sync_worker.py): the bare app
as anyone would serve it with the same settings. The project's workers make
gunicorn itself cheaper (deploy/http_response.py), so they raise the `bare`
ceiling too; this one is the server as it comes."""
from pathlib import Path

__file__ = str(Path(__file__).resolve().parent / "ceiling.conf.py")
exec(compile(Path(__file__).read_text(), __file__, "exec"))
worker_class = {"deploy.gthread_worker.ThreadWorker": "gthread",  # noqa: F821 (set by the exec'd file)
                "deploy.sync_worker.SyncWorker": "sync"}.get(worker_class, worker_class)  # noqa: F821
