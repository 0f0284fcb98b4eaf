"""The directory a gunicorn master makes for its workers' shared health
poll (routing/shared_health.py), and those that servers killed outright
leave behind."""
import fcntl
import os
import time

from routing import shared_health


def abandoned(parent, locked=False, age=shared_health.ABANDONED_AFTER + 5):
    """A server's directory as it would leave it, last written `age` ago."""
    directory = parent / f"{shared_health.PREFIX}left"
    directory.mkdir()
    (directory / shared_health.STATE_FILE).write_text("{}")
    lock = os.open(directory / shared_health.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    if locked:
        fcntl.flock(lock, fcntl.LOCK_EX)
    else:
        os.close(lock)
    then = time.time() - age
    os.utime(directory, (then, then))
    return directory, lock


def test_a_server_starting_removes_the_directory_a_server_killed_outright_left(tmp_path):
    """Check that a directory nobody has written in for ABANDONED_AFTER, its
    lock free, goes when the next server makes its own."""
    left, _ = abandoned(tmp_path)
    made = shared_health.make_directory(str(tmp_path))
    assert not left.exists()
    assert os.path.isdir(made) and os.stat(made).st_mode & 0o777 == 0o700


def test_a_directory_whose_lock_is_held_is_kept_however_old(tmp_path):
    """Check that a server whose poller holds the lock keeps its directory
    (all its workers hung for a minute: they come back to it)."""
    left, lock = abandoned(tmp_path, locked=True)
    try:
        shared_health.make_directory(str(tmp_path))
        assert left.exists()
    finally:
        os.close(lock)


def test_a_directory_written_in_lately_is_kept(tmp_path):
    """Check that a live server's directory is kept in the instant between
    one poller's death and the next one taking the lock."""
    left, _ = abandoned(tmp_path, age=1)
    shared_health.make_directory(str(tmp_path))
    assert left.exists()


def test_only_one_process_leads_at_a_time(tmp_path):
    """Check the lock: of two SharedPolls on one directory the first to
    look leads, the other follows, and takes over once the first lets go."""
    first, second = shared_health.SharedPoll(str(tmp_path)), shared_health.SharedPoll(str(tmp_path))
    assert first.lead() and not second.lead() and first.lead()
    first.close()
    assert second.lead() and not first.lead()
    second.close()
