"""Generic training: ``python -m svhnx.train TASK [flags]``.

How a task plugs in
-------------------
1. Subclass :class:`Task` in a module of :mod:`svhnx.tasks` (see ``mnist_seq.py``), decorate it with
   :func:`register_task`, and add ``"your-task": "svhnx.tasks.your_module"`` to
   :data:`svhnx.tasks.base.TASK_MODULES`.
2. Declare the task's settings as a dataclass subclass of
   :class:`svhnx.tasks.config.TrainConfig` (``@dataclass class YourConfig(TrainConfig)``): redeclare
   the shared fields whose defaults differ for your task (``model``, ``batch_size``, ``steps``,
   ``lr``, ``eval_every``, ``weight_decay``, ``schedule``, ...) and add your own. Subclass
   ``Task[YourConfig]`` (so ``self.config`` has your fields), set ``Config = YourConfig``, ``name``, ``description``, ``metric`` (picks ``best.pt``; ``higher_is_better``)
   and ``images_per_epoch`` (what ``--epochs`` counts).
3. Implement ``add_arguments``: one flag per field of your own, without a default (the parser
   takes every default from ``Config``, and refuses a flag without a field or a field without a
   flag; the shared flags are already there: ``--model --batch-size --steps/--epochs --lr
   --schedule --warmup --optimizer --weight-decay --eval-every --init --seed --device --amp
   --workers --threads --data-root --download --out --resume``); optionally ``check_config``
   (bad combinations). Then ``model_kwargs`` (passed to ``svhnx.models.create_model(config.model,
   ...)``), ``train_batches`` (CPU batch dicts starting at a given step, deterministic in
   seed/rank/step so resume is exact), ``validation_batches``, ``loss`` and ``new_metrics``;
   optionally ``forward`` (default ``model(batch["images"])``) and ``plot_predictions`` (used by
   ``python -m svhnx.evaluate``). The task reads its settings from ``self.config``; a checkpoint
   stores them as plain data, and ``Config.from_mapping`` rebuilds them for evaluation and
   ``--resume`` without any parser.

The loop (:class:`svhnx.train.loop.Trainer`) does the rest: device choice, AdamW/SGD, OneCycle /
cosine / constant LR, AMP and channels-last on CUDA, a tqdm bar with loss and images/s,
evaluation every ``--eval-every`` steps, the run directory (``config.json``, ``metrics.csv``,
``last.pt``, ``best.pt``, ``curves.png``) and ``--resume`` from ``last.pt`` (model, optimiser,
scheduler, scaler, step, RNG states; the data stream restarts at the saved step).

Several processes: ``torchrun --nproc-per-node N -m svhnx.train TASK ...`` (one process per GPU;
add ``--nnodes``/``--rdzv-endpoint`` for several machines) trains with DistributedDataParallel,
NCCL on CUDA and Gloo on the CPU (:mod:`svhnx.train.distributed`). ``--batch-size`` is per process
(a step takes N times as many images; the learning rate is not rescaled); ``train_batches`` gets
the process's ``rank``, so no two ranks draw the same samples; rank 0 alone writes the run
directory and the progress bar; the logged train loss is the mean over the ranks and validation
runs on rank 0 over the whole validation set, its metrics broadcast to every rank. Batch norm
statistics stay per process (no SyncBatchNorm).
"""

from svhnx.metrics.base import MetricAccumulator
from svhnx.tasks.base import Task, get_task, list_tasks, register_task

__all__ = ["MetricAccumulator", "Task", "get_task", "list_tasks", "register_task"]
