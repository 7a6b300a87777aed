"""Models whose batch norms look trained, for tests of what is done to them after training."""

import torch


def trained_looking(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``model`` in eval mode with random batch-norm statistics and affine terms, so that batch norm
    is not the identity and folding or exporting it is really exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5, generator=g)
                m.running_var.uniform_(0.2, 2.0, generator=g)
                m.weight.uniform_(0.5, 2.0, generator=g)
                m.bias.normal_(0, 0.3, generator=g)
    return model.eval()
