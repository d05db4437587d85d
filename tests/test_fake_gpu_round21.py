"""The twenty-first session's GPU fixes, kept honest on machines without a GPU.

The session ran the suite on a real H100 (CuPy 14.2) for the first time: ~400 failures,
nearly all reproduced by the strict fake CuPy in ``tests/fake_cupy`` once it refused
what real CuPy refused. These modules pass under it (``DLFRAME_DEVICE=gpu:0``): FAST
(the regression files written against the real run) and H100 (the modules that failed
on the real GPU), both every CI run (~35 s together). Runner:
tests/test_fake_gpu_round19.py.
"""

from test_fake_gpu_round19 import _pytest

FAST = ["tests/ops/test_gpu_fixes_round21_a.py", "tests/ops/test_gpu_fixes_round21_c.py",
        "tests/ops/test_gpu_fixes_round21_d.py", "tests/keras/test_gpu_fixes_round21_b.py",
        "tests/distribute/test_gpu_fixes_round21_e.py",
        "tests/function/test_gpu_fixes_round21_F.py", "tests/test_gpu_fixes_round21_G.py",
        "tests/core/test_device_copies_round21_i1.py",
        "tests/ops/test_gpu_gather_scatter_round21_i2.py",
        "tests/backends/test_matmul_routes_round21_i3.py",
        "tests/ops/test_scatter_ordered_round21.py", "tests/ops/test_review_round21_3.py",
        "tests/keras/test_review_round21_2.py", "tests/core/test_review_round21_4.py",
        "tests/ops/test_review_round21_5.py", "tests/backends/test_review_round21_6.py",
        "tests/backends/test_review_round21_1.py",
        "tests/function/test_graph_capture_round21_t.py",
        "tests/function/test_gaps_round21_j.py", "tests/core/test_final_read_round21.py",
        "tests/ops/test_gaps_round21_p3.py",
        "tests/function/test_tensor_array_round21_p1.py",
        "tests/keras/test_gaps_round21_p2.py", "tests/data/test_gaps_round21_p2_data.py"]
H100 = ["tests/ops/test_pool_conv_backward_fast2.py", "tests/ops/test_cnn_step_fast.py",
        "tests/ops/test_conv_pool_backward_fast.py",
        "tests/ops/test_conv_pool_speed_paths_round16.py",
        "tests/ops/test_conv_winograd_round18.py", "tests/function/test_cpu_fusion_pass.py",
        "tests/keras/test_recurrent_grad.py", "tests/keras/test_rnn_cell_wrappers.py",
        "tests/compat/test_v1_rnn.py", "tests/compat/test_v1_nn_native.py",
        "tests/ops/test_rnn_fast_round15.py", "tests/keras/test_rnn_speed_paths_round17.py",
        "tests/ops/test_gap_sampled.py", "tests/ops/test_ragged.py",
        "tests/ops/test_gap_sparse_math.py", "tests/core/test_indexed_slices_more.py",
        "tests/keras/test_sparse_optimizer_updates.py", "tests/keras/test_ragged_keras.py",
        "tests/keras/test_text_ragged_layers.py", "tests/test_raw_ops.py",
        "tests/compat/test_v1_ops.py", "tests/ops/test_special_functions.py",
        "tests/ops/test_linalg_decompositions.py", "tests/ops/test_nn_extras.py",
        "tests/ops/test_gap_nn_extra.py", "tests/ops/test_probe_numerics.py",
        "tests/ops/test_py_func_scalars_round20.py", "tests/ops/test_review_round20_5.py",
        "tests/ops/test_conjugate_transpose_polygamma.py",
        "tests/function/test_tensor_array_function.py",
        "tests/function/test_while_loop_gradients.py", "tests/function/test_graph_exec.py",
        "tests/function/test_graph_side_effects.py", "tests/function/test_dynamic_sizes.py",
        "tests/keras/test_examples_feature_space.py", "tests/keras/test_keras3_optimizers.py",
        "tests/keras/test_probe_losses_metrics.py", "tests/data/test_guide_tfdata.py",
        "tests/keras/test_audio_structured_layers.py",
        "tests/keras/test_optimizer_data_leftovers.py"]


def test_round21_regressions_pass_on_fake_gpu():
    _pytest(FAST, timeout=400)


def test_modules_that_failed_on_the_h100_pass_on_fake_gpu():
    _pytest(H100, timeout=900)
