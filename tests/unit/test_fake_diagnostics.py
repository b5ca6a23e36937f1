import asyncio

from bot.fakegram.server import waiting_tasks

# a handler of the bot's own, as if from handlers/ (frames of tests, the fake and libraries are left out)
SOURCE = """
async def handle(lock):
    async with lock:
        pass
"""


async def test_a_vain_wait_names_the_bots_stuck_task_and_where_it_waits():
    namespace: dict = {}
    exec(compile(SOURCE, "/srv/station/handlers/requests.py", "exec"), namespace)
    lock = asyncio.Lock()
    await lock.acquire()
    task = asyncio.create_task(namespace["handle"](lock), name="update-8")
    await asyncio.sleep(0)  # the task starts and waits for the lock
    try:
        report = waiting_tasks()
        assert "the bot's tasks waiting" in report
        assert "update-8: handlers/requests.py:3 handle" in report
        assert "locks.py" in report  # the innermost frame: asyncio's Lock.acquire
    finally:
        lock.release()
        await task
    assert waiting_tasks() == ""
