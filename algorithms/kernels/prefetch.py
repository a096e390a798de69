"""A software prefetch for the kernels that gather rows through an index.

``prefetch(a, i)`` asks the CPU to bring row ``i`` of array ``a`` into its
caches and does not wait for it (LLVM's ``llvm.prefetch``: a read, kept in
all cache levels).  A gather loop that asks for the row it will need some
rows ahead keeps many cache misses in flight: the writer's record assembly
of 10.5 M points (the nodes' points lie anywhere in the columns) took 0.08
s instead of 0.14 s that way, on an AMD EPYC with two threads
(``benchmarks/results/floor_gap.md``, seventh round).  It changes no value.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

AHEAD = 16   # rows asked for ahead of the one in use (8, 16, 32 and 64 tried: 16 the best)


@intrinsic
def prefetch(typingctx, array, row):
    """Prefetch the first byte of array[row] (row any integer; no bounds check,
    and none is needed: a prefetch of any address never faults)."""
    if not isinstance(array, types.Array) or not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, rowty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [context.cast(builder, args[1], rowty, types.intp)]
        index += [context.get_constant(types.intp, 0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer2(context, builder, data=ary.data,
                                        shape=cgutils.unpack_tuple(builder, ary.shape),
                                        strides=cgutils.unpack_tuple(builder, ary.strides),
                                        layout=aryty.layout, inds=index, wraparound=False,
                                        boundscheck=False)
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_ptr], ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]))
        # read (0), locality 3 (keep in every cache level), data cache (1)
        builder.call(fn, [builder.bitcast(ptr, byte_ptr), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(array, row), codegen
