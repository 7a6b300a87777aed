"""The learning problems ``python -m svhnx.train`` trains, one module each, registered in
:data:`svhnx.tasks.base.TASK_MODULES` (see :mod:`svhnx.train` for how to add one)."""

from svhnx.tasks.base import TASK_MODULES, Task, get_task, list_tasks, register_task

__all__ = ["TASK_MODULES", "Task", "get_task", "list_tasks", "register_task"]
