"""PyTorch golden values for every engine primitive and composite: test/fixtures/ops/<family>.safetensors.

Read by test/engine/ops/*.test.ts and test/engine/functional/*.test.ts through test/helpers/fixtures.ts,
which iterates over the case list in each file's __metadata__ (see OpFixture in common.py for the
naming). The `op` and `args` of a case are the engine's names and arguments (PyTorch's names where the
two agree); each test file maps them to an engine call, and a case whose op it does not know fails.

Inputs avoid the points where the reference and the engine may legitimately disagree: no ties for
max / argmax (except the explicit tie cases: maximum/minimum, max/min over all, a list or one dim), no zeros for relu / abs / sign-dependent
gradients, positive inputs for log, sqrt and the base of pow.

Run with Debian's torch:  /usr/bin/python3 tools/reference/ops_fixtures.py  (or `npm run fixtures`)
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OpFixture, Rng  # noqa: E402


def all_dims(x, dim):
    """The engine's `dim` argument (int, list or None = all) as a tuple torch accepts."""
    if dim is None:
        return tuple(range(x.dim()))
    return (dim,) if isinstance(dim, int) else tuple(dim)


# -- unary ----------------------------------------------------------------------------------------

def unary():
    ff = OpFixture('unary')
    domains = {
        'neg': 'randn', 'exp': 'randn', 'log': 'pos', 'sqrt': 'pos', 'abs': 'away', 'sin': 'wide',
        'cos': 'wide', 'relu': 'away', 'sigmoid': 'wide', 'tanh': 'randn', 'erf': 'erf',
    }

    def make(r, domain, shape):
        if domain == 'pos':
            return r.pos(shape, 0.1, 3.0)
        if domain == 'away':
            return r.away(shape)
        if domain == 'wide':
            return r.randn(shape, 3.0)
        if domain == 'erf':  # both branches of the engine's erf (|x| < 2.5, >= 2.5) and the |x| > 6 tail
            x = r.randn(shape, 2.0).reshape(-1)
            x[:6] = torch.tensor([-6.5, -3.1, -2.6, 2.4, 2.7, 4.2], dtype=torch.float64)
            return x.reshape(shape)
        return r.randn(shape)

    for op, domain in domains.items():
        fn = getattr(torch, op)
        r = Rng(f'unary.{op}')
        ff.case(op, op, [make(r, domain, [3, 4])], fn)
        ff.case(f'{op}_perm', op, [make(r, domain, [4, 2, 3])], fn, perm={0: [1, 2, 0]})
    r = Rng('unary.sign')
    x = r.randn([3, 4])
    x[0, 1] = 0.0
    x[2, 3] = 0.0
    ff.case('sign', 'sign', [x], torch.sign, grad=[])
    # At the kinks PyTorch's convention is a zero derivative (relu'(0) = 0, abs'(0) = sign(0) = 0).
    for op in ('relu', 'abs'):
        ff.case(f'{op}_kink', op, [x], getattr(torch, op))
    return ff


# -- binary ---------------------------------------------------------------------------------------

BINARY = {
    'add': torch.add, 'sub': torch.sub, 'mul': torch.mul, 'div': torch.div, 'pow': torch.pow,
    'maximum': torch.maximum, 'minimum': torch.minimum,
}


def binary():
    ff = OpFixture('binary')

    def a_of(r, op, shape):
        return r.pos(shape) if op == 'pow' else r.randn(shape)

    def b_of(r, op, shape):
        return r.away(shape, 0.5) if op == 'div' else r.randn(shape)

    shapes = {
        'same': ([3, 4], [3, 4]),
        'bcast': ([2, 3, 4], [3, 1]),
        'bcast_both': ([2, 1, 4], [3, 1]),
        'bcast_rank0': ([3, 4], []),
    }
    for op, fn in BINARY.items():
        for tag, (sa, sb) in shapes.items():
            r = Rng(f'binary.{op}.{tag}')
            ff.case(f'{op}_{tag}', op, [a_of(r, op, sa), b_of(r, op, sb)], fn)
        # Non-contiguous: in0 is [4, 2, 3] used as its permute(1, 2, 0) = [2, 3, 4]; in1 [4, 3] as [3, 4].
        r = Rng(f'binary.{op}.perm')
        ff.case(f'{op}_perm', op, [a_of(r, op, [4, 2, 3]), b_of(r, op, [4, 3])], fn, perm={0: [1, 2, 0], 1: [1, 0]})
        # A plain number operand on either side (no gradient for it).
        r = Rng(f'binary.{op}.scalar')
        s = 3.0 if op == 'pow' else 1.7
        x = r.randn([3, 4]) if op != 'div' else r.away([3, 4], 0.5)
        ff.case(f'{op}_scalar_right', op, [x], lambda a, fn=fn, s=s: fn(a, torch.tensor(s, dtype=a.dtype)),
                args={'scalar': s, 'side': 'right'})
        s_left = 1.7
        ff.case(f'{op}_scalar_left', op, [x], lambda a, fn=fn: fn(torch.tensor(s_left, dtype=a.dtype), a),
                args={'scalar': s_left, 'side': 'left'})
    r = Rng('binary.pow.frac')
    ff.case('pow_scalar_frac', 'pow', [r.pos([3, 4])], lambda a: torch.pow(a, torch.tensor(0.5, dtype=a.dtype)),
            args={'scalar': 0.5, 'side': 'right'})
    # Ties: torch.maximum / minimum give each side half of the gradient where a == b.
    for op in ('maximum', 'minimum'):
        r = Rng(f'binary.{op}.ties')
        a, b = r.randn([3, 4]), r.randn([3, 4])
        b[1] = a[1]
        ff.case(f'{op}_ties', op, [a, b], BINARY[op])
    # True division: int / int gives a float32 result in torch (an IoU from integer counts).
    r = Rng('binary.div.int')
    ff.case('div_int', 'div', [r.ints([3, 4], -7, 8), r.ints([3, 4], 1, 6)], torch.div)
    ff.case('div_int_scalar_right', 'div', [r.ints([3, 4], -7, 8)], lambda a: torch.div(a, 2),
            args={'scalar': 2, 'side': 'right'})
    return ff


# -- comparisons, where, clamp --------------------------------------------------------------------

def where_family():
    ff = OpFixture('where')
    cmp = {'eq': torch.eq, 'ne': torch.ne, 'lt': torch.lt, 'le': torch.le, 'gt': torch.gt, 'ge': torch.ge}
    for op, fn in cmp.items():
        # Small integers, so that ties (where eq / le / ge differ from lt / gt) are frequent.
        r = Rng(f'where.{op}')
        a, b = r.ints([3, 4], -2, 3).double(), r.ints([3, 4], -2, 3).double()
        ff.case(f'{op}_same', op, [a, b], fn, grad=[])
        a, b = r.ints([2, 3, 1], -2, 3).double(), r.ints([4], -2, 3).double()
        ff.case(f'{op}_bcast', op, [a, b], fn, grad=[])
        ff.case(f'{op}_scalar', op, [r.ints([3, 4], -2, 3).double()],
                lambda x, fn=fn: fn(x, torch.tensor(0.0, dtype=x.dtype)), args={'scalar': 0.0}, grad=[])

    def w(c, a, b):
        return torch.where(c > 0.5, a, b)

    r = Rng('where.where')
    ff.case('where_same', 'where', [r.mask([3, 4]), r.randn([3, 4]), r.randn([3, 4])], w, grad=[1, 2])
    ff.case('where_bcast', 'where', [r.mask([3, 1]), r.randn([2, 1, 4]), r.randn([4])], w, grad=[1, 2])
    ff.case('where_perm', 'where', [r.mask([3, 4]), r.randn([4, 3]), r.randn([1, 4])], w, grad=[1, 2],
            perm={1: [1, 0]})
    ff.case('where_scalar_y', 'where', [r.mask([3, 4]), r.randn([3, 4])],
            lambda c, a: torch.where(c > 0.5, a, torch.tensor(0.0, dtype=a.dtype)), args={'y': 0.0}, grad=[1])
    ff.case('where_scalar_x', 'where', [r.mask([3, 4]), r.randn([3, 4])],
            lambda c, b: torch.where(c > 0.5, torch.tensor(-1.5, dtype=b.dtype), b), args={'x': -1.5}, grad=[1])

    r = Rng('where.clamp')
    for tag, lo, hi in (('both', -0.5, 0.7), ('min', 0.2, None), ('max', None, -0.1)):
        x = r.randn([4, 5])
        ff.case(f'clamp_{tag}', 'clamp', [x], lambda a, lo=lo, hi=hi: torch.clamp(a, min=lo, max=hi),
                args={'min': lo, 'max': hi})
    # Values exactly at the bounds: torch.clamp passes the gradient there (min <= x <= max).
    x = torch.tensor([[-0.5, 0.7, 0.1], [-0.9, 0.9, -0.5]], dtype=torch.float64)
    ff.case('clamp_at_bounds', 'clamp', [x], lambda a: torch.clamp(a, min=-0.5, max=0.7), args={'min': -0.5, 'max': 0.7})
    return ff


# -- reductions -----------------------------------------------------------------------------------

REDUCE_DIMS = {
    'd1': (1, False), 'dneg1_keep': (-1, True), 'd02': ([0, 2], False), 'dneg_keep': ([-1, -3], True),
    'all': (None, False), 'all_keep': (None, True),
}


def reduce_family():
    ff = OpFixture('reduce')

    def torch_sum(x, dim, keep):
        return x.sum(dim=all_dims(x, dim), keepdim=keep)

    def torch_max(x, dim, keep):
        return torch.amax(x, dim=all_dims(x, dim), keepdim=keep)

    def torch_min(x, dim, keep):
        return torch.amin(x, dim=all_dims(x, dim), keepdim=keep)

    for op, fn in (('sum', torch_sum), ('max', torch_max), ('min', torch_min)):
        for tag, (dim, keep) in REDUCE_DIMS.items():
            r = Rng(f'reduce.{op}.{tag}')
            ff.case(f'{op}_{tag}', op, [r.distinct([2, 3, 4])], lambda x, fn=fn, dim=dim, keep=keep: fn(x, dim, keep),
                    args={'dim': dim, 'keepdim': keep})
        r = Rng(f'reduce.{op}.perm')
        ff.case(f'{op}_perm', op, [r.distinct([4, 2, 3])], lambda x, fn=fn: fn(x, [0, 2], False),
                args={'dim': [0, 2], 'keepdim': False}, perm={0: [1, 2, 0]})
        ff.case(f'{op}_1d', op, [r.distinct([5])], lambda x, fn=fn: fn(x, None, False), args={'dim': None, 'keepdim': False})
    for tag, dim, keep in (('d1', 1, False), ('dneg1_keep', -1, True), ('d0', 0, False), ('all', None, False)):
        r = Rng(f'reduce.argmax.{tag}')
        ff.case(f'argmax_{tag}', 'argmax', [r.distinct([2, 3, 4])],
                lambda x, dim=dim, keep=keep: torch.argmax(x, dim=dim, keepdim=keep), args={'dim': dim, 'keepdim': keep},
                grad=[])
    r = Rng('reduce.argmax.perm')
    ff.case('argmax_perm', 'argmax', [r.distinct([4, 3])], lambda x: torch.argmax(x, dim=1), args={'dim': 1, 'keepdim': False},
            grad=[], perm={0: [1, 0]})
    # dim=[] reduces every dim (torch.sum(x, dim=[]) == x.sum()).
    r = Rng('reduce.sum.empty')
    ff.case('sum_empty_dims', 'sum', [r.randn([2, 3])], lambda x: x.sum(dim=[]), args={'dim': [], 'keepdim': False})
    ff.case('sum_empty_dims_keep', 'sum', [r.randn([2, 3])], lambda x: x.sum(dim=[], keepdim=True),
            args={'dim': [], 'keepdim': True})
    # Ties: a full max / min (and amax over a list of dims) splits the gradient evenly between the
    # tied elements; over one dim (torch.max(x, dim)) it goes to the index returned, the first one.
    for op, full, amax in (('max', torch.max, torch.amax), ('min', torch.min, torch.amin)):
        r = Rng(f'reduce.{op}.ties')
        x = r.ints([2, 3, 4], -1, 2).double()  # values in {-1, 0, 1}: ties everywhere
        ff.case(f'{op}_ties_all', op, [x], lambda x, full=full: full(x), args={'dim': None, 'keepdim': False})
        ff.case(f'{op}_ties_d02', op, [x], lambda x, amax=amax: amax(x, dim=(0, 2)), args={'dim': [0, 2], 'keepdim': False})
        ff.case(f'{op}_ties_d1', op, [x], lambda x, full=full: full(x, dim=1).values, args={'dim': 1, 'keepdim': False})
        ff.case(f'{op}_ties_dneg1_keep', op, [x], lambda x, full=full: full(x, dim=-1, keepdim=True).values,
                args={'dim': -1, 'keepdim': True})
    return ff


def stats_family():
    ff = OpFixture('stats')
    for tag, (dim, keep) in REDUCE_DIMS.items():
        r = Rng(f'stats.mean.{tag}')
        ff.case(f'mean_{tag}', 'mean', [r.randn([2, 3, 4])],
                lambda x, dim=dim, keep=keep: x.mean(dim=all_dims(x, dim), keepdim=keep), args={'dim': dim, 'keepdim': keep})
    r = Rng('stats.mean.perm')
    ff.case('mean_perm', 'mean', [r.randn([4, 2, 3])], lambda x: x.mean(dim=(1,), keepdim=True),
            args={'dim': 1, 'keepdim': True}, perm={0: [2, 0, 1]})
    for correction in (0, 1):
        for tag, dim, keep in (('d1', 1, False), ('d02_keep', [0, 2], True), ('dneg1', -1, False), ('all', None, False)):
            r = Rng(f'stats.var.{correction}.{tag}')
            ff.case(f'var_c{correction}_{tag}', 'var', [r.randn([2, 3, 4]) + 3.0],
                    lambda x, dim=dim, keep=keep, c=correction: torch.var(x, dim=all_dims(x, dim), unbiased=c == 1, keepdim=keep),
                    args={'dim': dim, 'keepdim': keep, 'correction': correction})
        r = Rng(f'stats.var.{correction}.perm')
        ff.case(f'var_c{correction}_perm', 'var', [r.randn([4, 3])],
                lambda x, c=correction: torch.var(x, dim=(1,), unbiased=c == 1),
                args={'dim': 1, 'keepdim': False, 'correction': correction}, perm={0: [1, 0]})
    for tag, dim, keep in (('dneg1', -1, False), ('d02_keep', [0, 2], True), ('all', None, False)):
        r = Rng(f'stats.norm.{tag}')
        ff.case(f'norm_{tag}', 'norm', [r.randn([2, 3, 4])],
                lambda x, dim=dim, keep=keep: torch.linalg.vector_norm(x, 2, dim=all_dims(x, dim), keepdim=keep),
                args={'dim': dim, 'keepdim': keep})
    # At a zero vector torch's norm gradient is 0 (not the NaN of d√s/ds · 2x = ∞ · 0).
    r = Rng('stats.norm.zero')
    x = r.randn([3, 4])
    x[1] = 0.0
    ff.case('norm_zero_row', 'norm', [x], lambda x: torch.linalg.vector_norm(x, 2, dim=(-1,)), args={'dim': -1, 'keepdim': False})
    ff.case('norm_zero_all', 'norm', [torch.zeros(2, 3, dtype=torch.float64)],
            lambda x: torch.linalg.vector_norm(x, 2), args={'dim': None, 'keepdim': False})
    r = Rng('stats.mean.empty')
    ff.case('mean_empty_dims', 'mean', [r.randn([2, 3])], lambda x: x.mean(dim=[]), args={'dim': [], 'keepdim': False})
    return ff


# -- movement -------------------------------------------------------------------------------------

def movement_family():
    ff = OpFixture('movement')
    r = Rng('movement')
    x = lambda: r.randn([2, 3, 4])  # noqa: E731
    ff.case('reshape_infer', 'reshape', [x()], lambda a: a.reshape(4, -1), args={'shape': [4, -1]})
    ff.case('reshape_flat', 'reshape', [x()], lambda a: a.reshape(24), args={'shape': [24]})
    ff.case('reshape_perm', 'reshape', [r.randn([4, 2, 3])], lambda a: a.reshape(6, 4), args={'shape': [6, 4]},
            perm={0: [1, 2, 0]})
    ff.case('permute', 'permute', [x()], lambda a: a.permute(2, 0, 1), args={'dims': [2, 0, 1]})
    ff.case('permute_neg', 'permute', [x()], lambda a: a.permute(-1, 0, 1), args={'dims': [-1, 0, 1]})
    ff.case('transpose', 'transpose', [x()], lambda a: a.transpose(0, 2), args={'dim0': 0, 'dim1': 2})
    ff.case('transpose_neg', 'transpose', [x()], lambda a: a.transpose(-1, -2), args={'dim0': -1, 'dim1': -2})
    ff.case('expand', 'expand', [r.randn([3, 1])], lambda a: a.expand(2, 3, 4), args={'shape': [2, 3, 4]})
    ff.case('expand_keep', 'expand', [r.randn([1, 4])], lambda a: a.expand(3, -1), args={'shape': [3, -1]})
    ff.case('expand_perm', 'expand', [r.randn([4, 1])], lambda a: a.expand(2, 1, 4), args={'shape': [2, 1, 4]},
            perm={0: [1, 0]})
    ff.case('squeeze_dim', 'squeeze', [r.randn([2, 1, 3, 1])], lambda a: a.squeeze(1), args={'dim': 1})
    ff.case('squeeze_neg', 'squeeze', [r.randn([2, 1, 3, 1])], lambda a: a.squeeze(-1), args={'dim': -1})
    ff.case('squeeze_noop', 'squeeze', [r.randn([2, 1, 3, 1])], lambda a: a.squeeze(0), args={'dim': 0})
    ff.case('squeeze_all', 'squeeze', [r.randn([2, 1, 3, 1])], lambda a: a.squeeze(), args={'dim': None})
    ff.case('unsqueeze_0', 'unsqueeze', [r.randn([2, 3])], lambda a: a.unsqueeze(0), args={'dim': 0})
    ff.case('unsqueeze_neg', 'unsqueeze', [r.randn([2, 3])], lambda a: a.unsqueeze(-1), args={'dim': -1})
    ff.case('unsqueeze_mid', 'unsqueeze', [r.randn([2, 3])], lambda a: a.unsqueeze(1), args={'dim': 1})
    ff.case('flip_0', 'flip', [x()], lambda a: a.flip(0), args={'dims': [0]})
    ff.case('flip_12', 'flip', [x()], lambda a: a.flip(1, 2), args={'dims': [1, 2]})
    ff.case('flip_neg', 'flip', [x()], lambda a: a.flip(-1), args={'dims': -1})
    ff.case('flip_perm', 'flip', [r.randn([4, 3])], lambda a: a.flip(0), args={'dims': [0]}, perm={0: [1, 0]})
    ff.case('flatten', 'flatten', [x()], lambda a: a.flatten(), args={'start': 0, 'end': -1})
    ff.case('flatten_1', 'flatten', [x()], lambda a: a.flatten(1), args={'start': 1, 'end': -1})
    ff.case('flatten_01', 'flatten', [x()], lambda a: a.flatten(0, 1), args={'start': 0, 'end': 1})
    return ff


# -- slice, pad, cat, stack, chunk ------------------------------------------------------------------

def torch_slice(x, dim, start, end, step):
    idx = [slice(None)] * x.dim()
    idx[dim] = slice(start, end, step)
    return x[tuple(idx)]


def torch_pad(x, pads, value):
    """The engine's pads ([before, after] per dim from the first) as F.pad's list (last dim first)."""
    flat = []
    for d in reversed(range(x.dim())):
        before, after = pads[d] if d < len(pads) else (0, 0)
        flat += [before, after]
    return F.pad(x, flat, value=value)


def slice_family():
    ff = OpFixture('slice')
    r = Rng('slice')
    for tag, (dim, start, end, step) in {
        'step2': (1, 1, 5, 2), 'neg_start': (0, -3, None, 1), 'step3_open': (-1, 0, None, 3),
        'clamped_end': (0, 1, 100, 1), 'neg_end': (1, 0, -2, 2),
    }.items():
        ff.case(f'slice_{tag}', 'slice', [r.randn([5, 6])], lambda a, d=dim, s=start, e=end, st=step: torch_slice(a, d, s, e, st),
                args={'dim': dim, 'start': start, 'end': end, 'step': step})
    ff.case('slice_perm', 'slice', [r.randn([6, 5])], lambda a: torch_slice(a, 1, 1, 6, 2),
            args={'dim': 1, 'start': 1, 'end': 6, 'step': 2}, perm={0: [1, 0]})
    ff.case('narrow', 'narrow', [r.randn([3, 6])], lambda a: a.narrow(1, 2, 3), args={'dim': 1, 'start': 2, 'length': 3})
    for tag, shape, pads, value in (
        ('2d', [2, 3], [[1, 2], [0, 3]], 0.0), ('value', [2, 3], [[0, 0], [2, 1]], 1.5), ('first_dim', [2, 2, 3], [[1, 1]], 0.0),
    ):
        ff.case(f'pad_{tag}', 'pad', [r.randn(shape)], lambda a, p=pads, v=value: torch_pad(a, p, v),
                args={'pads': pads, 'value': value})
    ff.case('pad_perm', 'pad', [r.randn([3, 2])], lambda a: torch_pad(a, [[1, 0], [1, 2]], 0.0),
            args={'pads': [[1, 0], [1, 2]], 'value': 0.0}, perm={0: [1, 0]})
    ff.case('cat_0', 'cat', [r.randn([2, 3]), r.randn([1, 3]), r.randn([4, 3])], lambda *xs: torch.cat(xs, 0), args={'dim': 0})
    ff.case('cat_neg', 'cat', [r.randn([2, 3]), r.randn([2, 5])], lambda *xs: torch.cat(xs, -1), args={'dim': -1})
    ff.case('cat_mid', 'cat', [r.randn([2, 1, 3]), r.randn([2, 2, 3])], lambda *xs: torch.cat(xs, 1), args={'dim': 1})
    ff.case('cat_perm', 'cat', [r.randn([3, 2]), r.randn([2, 4])], lambda *xs: torch.cat(xs, 1), args={'dim': 1},
            perm={0: [1, 0]})
    for tag, dim in (('0', 0), ('1', 1), ('neg', -1)):
        ff.case(f'stack_{tag}', 'stack', [r.randn([2, 3]) for _ in range(3)], lambda *xs, d=dim: torch.stack(xs, d),
                args={'dim': dim})
    ff.case('chunk_uneven', 'chunk', [r.randn([7, 4])], lambda a: list(a.chunk(3, 0)), args={'chunks': 3, 'dim': 0})
    ff.case('chunk_even_neg', 'chunk', [r.randn([2, 6])], lambda a: list(a.chunk(2, -1)), args={'chunks': 2, 'dim': -1})
    return ff


# -- matmul ---------------------------------------------------------------------------------------

def matmul_family():
    ff = OpFixture('matmul')
    for tag, sa, sb in (
        ('2d', [3, 4], [4, 5]), ('batched', [2, 3, 4], [2, 4, 5]), ('bcast_batch', [2, 1, 3, 4], [5, 4, 6]),
        ('3d_2d', [2, 3, 4], [4, 5]), ('2d_3d', [3, 4], [2, 4, 5]), ('1d_2d', [4], [4, 5]), ('2d_1d', [3, 4], [4]),
        ('1d_1d', [4], [4]), ('1d_3d', [4], [2, 4, 5]), ('3d_1d', [2, 3, 4], [4]),
    ):
        r = Rng(f'matmul.{tag}')
        ff.case(tag, 'matmul', [r.randn(sa), r.randn(sb)], torch.matmul)
    r = Rng('matmul.perm')
    ff.case('perm', 'matmul', [r.randn([4, 3]), r.randn([2, 5, 4])], torch.matmul, perm={0: [1, 0], 1: [0, 2, 1]})
    return ff


# -- gather, indexSelect, embedding -------------------------------------------------------------

def gather_family():
    ff = OpFixture('gather')
    r = Rng('gather')
    for tag, shape, dim, m in (('d0', [4, 3], 0, 5), ('d1_repeats', [3, 5], 1, 7), ('dneg_3d', [2, 3, 4], -1, 6),
                               ('d1_3d', [2, 4, 3], 1, 2)):
        d = dim % len(shape)
        ishape = [m if i == d else s for i, s in enumerate(shape)]
        ff.case(f'gather_{tag}', 'gather', [r.randn(shape), r.ints(ishape, 0, shape[d])],
                lambda x, i, dim=dim: torch.gather(x, dim, i), args={'dim': dim})
    ff.case('gather_perm', 'gather', [r.randn([4, 3]), r.ints([3, 5], 0, 4)], lambda x, i: torch.gather(x, 1, i),
            args={'dim': 1}, perm={0: [1, 0]})
    for tag, shape, dim, idx in (('d0', [5, 3], 0, [0, 2, 2, 4]), ('d1', [3, 4, 2], 1, [3, 0, 3]), ('dneg', [2, 3, 4], -1, [1, 1])):
        ff.case(f'index_select_{tag}', 'indexSelect', [r.randn(shape), torch.tensor(idx, dtype=torch.int64)],
                lambda x, i, dim=dim: torch.index_select(x, dim, i), args={'dim': dim})
    ff.case('embedding_2d', 'embedding', [r.ints([2, 3], 0, 6), r.randn([6, 4])], lambda i, w: F.embedding(i, w))
    ff.case('embedding_1d', 'embedding', [torch.tensor([5, 0, 5, 2], dtype=torch.int64), r.randn([6, 3])],
            lambda i, w: F.embedding(i, w))
    return ff


# -- activations ----------------------------------------------------------------------------------

def activation_family():
    ff = OpFixture('activation')
    for op, fn in (('softmax', torch.softmax), ('logSoftmax', torch.log_softmax)):
        r = Rng(f'activation.{op}')
        ff.case(f'{op}_last', op, [r.randn([3, 5])], lambda x, fn=fn: fn(x, -1), args={'dim': -1})
        ff.case(f'{op}_0', op, [r.randn([3, 5])], lambda x, fn=fn: fn(x, 0), args={'dim': 0})
        ff.case(f'{op}_mid', op, [r.randn([2, 3, 4])], lambda x, fn=fn: fn(x, 1), args={'dim': 1})
        ff.case(f'{op}_large', op, [r.randn([2, 6], 30.0)], lambda x, fn=fn: fn(x, -1), args={'dim': -1})
        ff.case(f'{op}_perm', op, [r.randn([4, 2, 3])], lambda x, fn=fn: fn(x, -1), args={'dim': -1}, perm={0: [1, 2, 0]})
    r = Rng('activation.gelu')
    ff.case('gelu', 'gelu', [r.randn([3, 5], 2.0)], lambda x: F.gelu(x), args={'approximate': 'none'})
    ff.case('gelu_tanh', 'gelu', [r.randn([3, 5], 2.0)], lambda x: F.gelu(x, approximate='tanh'), args={'approximate': 'tanh'})
    # CLIP's QuickGELU (openai/CLIP model.py): x * sigmoid(1.702 x); torch has no builtin.
    ff.case('quick_gelu', 'quickGelu', [r.randn([3, 5], 2.0)], lambda x: x * torch.sigmoid(1.702 * x))
    return ff


# -- layers ---------------------------------------------------------------------------------------

def layers_family():
    ff = OpFixture('layers')
    r = Rng('layers.linear')
    ff.case('linear', 'linear', [r.randn([3, 4]), r.randn([5, 4]), r.randn([5])], F.linear)
    ff.case('linear_nobias', 'linear', [r.randn([3, 4]), r.randn([5, 4])], lambda x, w: F.linear(x, w))
    ff.case('linear_3d', 'linear', [r.randn([2, 3, 4]), r.randn([5, 4]), r.randn([5])], F.linear)
    ff.case('linear_1d', 'linear', [r.randn([4]), r.randn([2, 4]), r.randn([2])], F.linear)
    ff.case('linear_perm', 'linear', [r.randn([4, 3]), r.randn([4, 5])], lambda x, w: F.linear(x, w),
            perm={0: [1, 0], 1: [1, 0]})
    r = Rng('layers.layer_norm')

    def ln(normalized, eps):
        return lambda x, w=None, b=None: F.layer_norm(x, normalized, w, b, eps)

    ff.case('layer_norm', 'layerNorm', [r.randn([3, 5], 2.0) + 1.0, 1.0 + r.randn([5], 0.3), r.randn([5])], ln([5], 1e-5),
            args={'normalizedShape': [5], 'eps': 1e-5})
    ff.case('layer_norm_plain', 'layerNorm', [r.randn([3, 5])], ln([5], 1e-5), args={'normalizedShape': [5], 'eps': 1e-5})
    ff.case('layer_norm_eps', 'layerNorm', [r.randn([4, 3], 0.1)], ln([3], 1e-2), args={'normalizedShape': [3], 'eps': 1e-2})
    ff.case('layer_norm_weight_only', 'layerNorm', [r.randn([2, 4]), 1.0 + r.randn([4], 0.3)], ln([4], 1e-5),
            args={'normalizedShape': [4], 'eps': 1e-5})
    ff.case('layer_norm_2dims', 'layerNorm', [r.randn([2, 3, 4]), 1.0 + r.randn([3, 4], 0.3), r.randn([3, 4])],
            ln([3, 4], 1e-5), args={'normalizedShape': [3, 4], 'eps': 1e-5})
    ff.case('layer_norm_perm', 'layerNorm', [r.randn([4, 2, 3]), 1.0 + r.randn([4], 0.3), r.randn([4])], ln([4], 1e-5),
            args={'normalizedShape': [4], 'eps': 1e-5}, perm={0: [1, 2, 0]})
    return ff


# -- losses ---------------------------------------------------------------------------------------

def loss_family():
    ff = OpFixture('loss')
    r = Rng('loss.ce')
    ff.case('ce_2d', 'crossEntropy', [r.randn([4, 5], 2.0), r.ints([4], 0, 5)], lambda x, t: F.cross_entropy(x, t))
    t = r.ints([6], 0, 5)
    t[1] = -100
    t[4] = -100
    ff.case('ce_ignore', 'crossEntropy', [r.randn([6, 5]), t], lambda x, t: F.cross_entropy(x, t))
    t = r.ints([5], 0, 4)
    t[2] = 255
    ff.case('ce_ignore_255', 'crossEntropy', [r.randn([5, 4]), t], lambda x, t: F.cross_entropy(x, t, ignore_index=255),
            args={'ignoreIndex': 255})
    for reduction in ('sum', 'none'):
        t = r.ints([4], 0, 3)
        t[0] = -100
        ff.case(f'ce_{reduction}', 'crossEntropy', [r.randn([4, 3]), t],
                lambda x, t, red=reduction: F.cross_entropy(x, t, reduction=red), args={'reduction': reduction})
    t = r.ints([2, 2, 3], 0, 4)
    t[0, 1, 2] = -100
    t[1, 0, 0] = -100
    ff.case('ce_4d', 'crossEntropy', [r.randn([2, 4, 2, 3]), t], lambda x, t: F.cross_entropy(x, t))
    ff.case('ce_4d_none', 'crossEntropy', [r.randn([2, 4, 2, 3]), t],
            lambda x, t: F.cross_entropy(x, t, reduction='none'), args={'reduction': 'none'})
    ff.case('ce_perm', 'crossEntropy', [r.randn([5, 3]), r.ints([3], 0, 5)], lambda x, t: F.cross_entropy(x, t),
            perm={0: [1, 0]})
    r = Rng('loss.bce')
    for reduction in ('mean', 'sum', 'none'):
        ff.case(f'bce_{reduction}', 'binaryCrossEntropyWithLogits', [r.away([3, 4], 0.1) * 2, r.uniform([3, 4])],
                lambda x, y, red=reduction: F.binary_cross_entropy_with_logits(x, y, reduction=red),
                args={'reduction': reduction})
    # Logits exactly 0 (a zero-initialised head): the stable formula's kinks must not change the gradient.
    x = r.away([2, 3], 0.1)
    x[0] = 0.0
    ff.case('bce_at_zero', 'binaryCrossEntropyWithLogits', [x, r.uniform([2, 3])],
            lambda x, y: F.binary_cross_entropy_with_logits(x, y), args={'reduction': 'mean'})
    r = Rng('loss.mse')
    for reduction in ('mean', 'sum', 'none'):
        ff.case(f'mse_{reduction}', 'mseLoss', [r.randn([3, 4]), r.randn([3, 4])],
                lambda x, y, red=reduction: F.mse_loss(x, y, reduction=red), args={'reduction': reduction})
    ff.case('mse_perm', 'mseLoss', [r.randn([4, 3]), r.randn([3, 4])], lambda x, y: F.mse_loss(x, y), perm={0: [1, 0]})
    return ff


# -- attention ------------------------------------------------------------------------------------

def attention_ref(q, k, v, mask=None, scale=None):
    """softmax(Q Kᵀ · scale + mask) V, written out (torch 1.13 has no F.scaled_dot_product_attention)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if mask is not None:
        scores = scores + mask
    return torch.softmax(scores, -1) @ v


def causal(n, dtype):
    return torch.full((n, n), float('-inf'), dtype=dtype).triu(1)


def attention_family():
    ff = OpFixture('attention')
    r = Rng('attention')
    ff.case('sdpa', 'sdpa', [r.randn([2, 3, 4]), r.randn([2, 5, 4]), r.randn([2, 5, 6])], attention_ref)
    mask = r.randn([3, 5])
    mask[0, 1] = float('-inf')
    mask[2, 4] = float('-inf')
    ff.case('sdpa_mask', 'sdpa', [r.randn([2, 3, 4]), r.randn([2, 5, 4]), r.randn([2, 5, 6]), mask], attention_ref,
            grad=[0, 1, 2])
    pad_mask = torch.zeros([2, 1, 1, 5], dtype=torch.float64)
    pad_mask[0, 0, 0, 3:] = float('-inf')
    ff.case('sdpa_pad_mask', 'sdpa', [r.randn([2, 2, 3, 4]), r.randn([2, 2, 5, 4]), r.randn([2, 2, 5, 3]), pad_mask],
            attention_ref, grad=[0, 1, 2])
    ff.case('sdpa_causal', 'sdpa', [r.randn([2, 2, 4, 3]), r.randn([2, 2, 4, 3]), r.randn([2, 2, 4, 3])],
            lambda q, k, v: attention_ref(q, k, v, causal(4, q.dtype)), args={'causal': True})
    ff.case('sdpa_scale', 'sdpa', [r.randn([3, 4]), r.randn([5, 4]), r.randn([5, 2])],
            lambda q, k, v: attention_ref(q, k, v, scale=0.3), args={'scale': 0.3})
    ff.case('sdpa_perm', 'sdpa', [r.randn([2, 4, 3]), r.randn([2, 5, 4]), r.randn([2, 5, 6])], attention_ref,
            perm={0: [0, 2, 1]})
    return ff


FAMILIES = [unary, binary, where_family, reduce_family, stats_family, movement_family, slice_family, matmul_family,
            gather_family, activation_family, layers_family, loss_family, attention_family]


def main():
    torch.set_num_threads(1)  # summation order, hence float32 rounding, does not depend on the machine
    total = sum(make().save() for make in FAMILIES)
    print(f'ops fixtures: {total / 1024:.1f} KiB in all')


if __name__ == '__main__':
    main()
