"""Invariants of the Deep Equilibrium Model (Bai, Kolter & Koltun 2019)."""

import pytest
import torch

from seqestim.nn.deq import DEQ, DEQConvergenceWarning, DEQParams, _sinusoid, anderson, broyden


def _model(**params):
    torch.manual_seed(0)
    defaults = {"d_model": 8, "n_heads": 2, "max_iter": 100, "tol": 1e-12}
    return DEQ(3, DEQParams(**{**defaults, **params})).double()


def _input(length=10, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(2, length, 3, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("solver", [anderson, broyden])
def test_the_solvers_find_the_fixed_point_of_a_contraction(solver):
    torch.manual_seed(0)
    W = torch.randn(6, 6, dtype=torch.float64)
    W = 0.9 * W / torch.linalg.matrix_norm(W, ord=2)  # a contraction
    b = torch.randn(3, 6, dtype=torch.float64)
    z, residual, iterations = solver(
        lambda z: torch.tanh(z @ W.T + b), b.new_zeros(3, 6), 200, 1e-12
    )
    torch.testing.assert_close(z, torch.tanh(z @ W.T + b), atol=1e-10, rtol=0)
    assert bool((residual < 1e-12).all()) and int(iterations.max()) < 200


@pytest.mark.parametrize("solver", ["anderson", "broyden"])
def test_the_output_is_the_equilibrium_of_the_cell(solver):
    model = _model(solver=solver).eval()
    x = _input()
    with torch.no_grad():
        z = model(x)
    u = model.inject(x) + model.position(_sinusoid(10, 8, x))
    keep = torch.ones(2, 10, 1, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(model.cell(z, u, keep), z, atol=1e-9, rtol=0)
    assert model.solver_stats["forward_residual"] < 1e-12


@pytest.mark.parametrize("solver", ["anderson", "broyden"])
def test_the_implicit_gradient_equals_the_gradient_of_an_unrolled_solve(solver):
    model = _model(solver=solver).train()
    x = _input().requires_grad_()
    target = torch.randn(2, 10, 8, dtype=torch.float64)
    loss = (model(x) - target).square().sum()
    implicit = torch.autograd.grad(loss, [x, *model.parameters()])
    assert model.solver_stats["backward_residual"] < 1e-12
    # the same equilibrium reached by 200 plain, differentiable iterations of the cell
    u = model.inject(x) + model.position(_sinusoid(10, 8, x))
    keep = torch.ones(2, 10, 1, dtype=torch.float64)
    z = torch.zeros(2, 10, 8, dtype=torch.float64)
    for _ in range(200):
        z = model.cell(z, u, keep)
    unrolled = torch.autograd.grad((z - target).square().sum(), [x, *model.parameters()])
    for a, b in zip(implicit, unrolled, strict=True):
        assert (a - b).norm() <= 1e-4 * b.norm()


def _saved_bytes(model, x):
    """Bytes autograd keeps for the backward pass of one forward."""
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(x).sum().backward()
    return total


def test_backward_memory_does_not_grow_with_the_solver_iterations():
    x = _input(length=12)
    saved = {}
    for max_iter in (5, 40):
        model = _model(max_iter=max_iter, tol=0.0).train()  # tol 0: every iteration runs
        with pytest.warns(DEQConvergenceWarning):
            saved[max_iter] = _saved_bytes(model, x)
        assert model.solver_stats["forward_iterations"] == max_iter
    assert saved[5] == saved[40] > 0


def test_an_unconverged_solve_warns_and_reports_its_residual():
    model = _model(max_iter=2, tol=1e-12).eval()
    with pytest.warns(DEQConvergenceWarning, match="max_iter"), torch.no_grad():
        model(_input())
    assert model.solver_stats["forward_iterations"] == 2
    assert model.solver_stats["forward_residual"] > 1e-12


def test_the_jacobian_penalty_is_added_in_training_only_once():
    model = _model(jacobian_regularization=0.5).train()
    model(_input())
    penalty = model.auxiliary_loss()
    assert penalty is not None and penalty.requires_grad and float(penalty.detach()) > 0
    assert model.auxiliary_loss() is None  # forgotten once read
    model.eval()
    with torch.no_grad():
        model(_input())
    assert model.auxiliary_loss() is None
    assert _model().train().auxiliary_loss() is None


def test_the_jacobian_penalty_estimates_the_frobenius_norm():
    # E ||εᵀ J||² = ||J||_F²: average many draws of the Hutchinson estimate
    model = _model(jacobian_regularization=1.0, tol=1e-8).train()
    x = _input(length=3)
    draws = []
    torch.manual_seed(1)
    for _ in range(150):
        model(x)
        draws.append(float(model.auxiliary_loss()))
    with torch.no_grad():
        z_star = model.eval()(x)
    u = model.inject(x) + model.position(_sinusoid(3, 8, x))
    keep = torch.ones(2, 3, 1, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda z: model.cell(z, u, keep), z_star)
    frobenius = float(J.square().sum()) / z_star.numel()
    assert abs(sum(draws) / len(draws) - frobenius) < 0.15 * frobenius


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"d_model": 6, "n_heads": 4}, "multiple"),
        ({"solver": "newton"}, "solver"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"jacobian_regularization": -0.1}, "jacobian_regularization"),
    ],
)
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        DEQ(3, DEQParams(**params))
