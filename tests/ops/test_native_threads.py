"""The native ops never abort the process when the system cannot start the threads asked for."""

import subprocess
import sys
import textwrap

# Under a 3 GB address-space limit, 1,000 threads' stacks (8 MB each) cannot all be mapped.
SCRIPT = textwrap.dedent("""
    import resource
    import numpy as np
    from svhnx import ops
    boxes = np.tile(np.array([[1, 2, 3, 4]], np.float32), (5000, 1))
    counts = np.ones(5000, np.int64)
    expected = ops.union_boxes(boxes, counts, threads=1)
    resource.setrlimit(resource.RLIMIT_AS, (3_000_000_000, resource.RLIM_INFINITY))
    got = ops.union_boxes(boxes, counts, threads=1000)
    print("same" if np.array_equal(got, expected) else "different")
""")


def test_more_threads_than_the_system_can_start_still_give_the_answer():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "same"
