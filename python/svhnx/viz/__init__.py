"""Every figure svhnx draws, written by one PNG writer (:func:`svhnx.image_file.write_png`, through
:func:`svhnx.viz.png.save_png` for matplotlib figures). matplotlib draws off-screen (Agg)."""

import matplotlib

matplotlib.use("Agg")
