"""use_primary() and pinned_to() are nesting-safe and private to each thread and task."""
import asyncio
import threading

from routing import context, pinned_to, use_primary


def test_nested_use_primary_restores_the_previous_state_exactly():
    """Check that leaving an inner block keeps the outer one in force, and leaving both clears it."""
    assert context.primary_forced() is False
    with use_primary():
        with use_primary():
            assert context.primary_forced() is True
        assert context.primary_forced() is True
    assert context.primary_forced() is False


def test_use_primary_as_a_decorator_applies_only_during_the_call():
    """Check that the decorated function reads from the primary and nothing leaks after it."""
    @use_primary()
    def job():
        return context.primary_forced()

    assert job() is True
    assert job() is True
    assert context.primary_forced() is False


def test_use_primary_in_one_thread_does_not_route_another():
    """Check that a block in one thread leaves other threads' routing alone, even sharing one object."""
    shared = use_primary()
    inside, outside = threading.Barrier(2), threading.Barrier(2)
    seen = {}

    def holder():
        with shared:
            inside.wait()
            outside.wait()

    def observer():
        inside.wait()
        seen["other thread"] = context.primary_forced()
        with shared:
            seen["own block"] = context.primary_forced()
        seen["after own block"] = context.primary_forced()
        outside.wait()

    threads = [threading.Thread(target=holder), threading.Thread(target=observer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert seen == {"other thread": False, "own block": True, "after own block": False}


def test_use_primary_is_private_to_each_asyncio_task():
    """Check that under ASGI-style concurrency one task's block does not leak into another."""
    async def forced_inside(event):
        with use_primary():
            event.set()
            await asyncio.sleep(0.01)
            return context.primary_forced()

    async def plain(event):
        await event.wait()
        return context.primary_forced()

    async def both():
        event = asyncio.Event()
        return await asyncio.gather(forced_inside(event), plain(event))

    assert asyncio.run(both()) == [True, False]


def test_pinned_to_carries_a_position_into_background_work():
    """Check that pinned_to(lsn) gives the block a position requiring that LSN, then removes it."""
    assert context.current() is None
    with pinned_to(1234):
        assert context.current().min_lsn == 1234
        with use_primary():
            assert context.current().min_lsn == 1234
    assert context.current() is None


def test_a_required_position_raises_the_read_and_can_be_given_back_for_the_sessions_own():
    """Check that require() raises the position a read must reach (never
    lowers it), and that settle_for_own() gives back exactly the session's
    own pin, once: what a pinned read waits for with the primary down."""
    position = context.ReadPosition(min_lsn=100, pinned=True)
    position.require(50)
    assert (position.min_lsn, position.own_lsn) == (100, None)
    position.require(300)
    position.require(200)
    assert position.min_lsn == 300
    position.settle_for_own()
    assert position.min_lsn == 100
    position.settle_for_own()
    assert position.min_lsn == 100
