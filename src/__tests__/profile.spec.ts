/** The Profile section's words and numbers (src/profile/format.ts). */
import type { IJobProfile, IProfileSummary } from '../api/profile';
import { dataWaitLine, gpuLine, ms, percent, shortName, sizeText, stateText, stepsLine } from '../profile/format';

// The summary of the recorded H200 starved trace (tritonml_lab/tests/data/profile-traces).
const starved: IProfileSummary = {
  device: 'NVIDIA H200',
  top_by: 'device',
  top: [{ name: 'Memcpy HtoD (Pageable -> Device)', calls: 20, total_ms: 164.529, share: 0.3681 }],
  steps: 10,
  step_ms: 201.008,
  window_ms: 2010.08,
  data_wait_share: 0.5828,
  data_wait_ms: 117.143,
  gpu_busy_share: 0.2218,
  gpu_idle_ms: 1564.335,
  gpu_gap_count: 20,
  gpu_gaps: [{ start_ms: 1079.407, ms: 295.415 }],
  events: 85668,
  truncated: false
};

describe('profile format', () => {
  it('words the summary', () => {
    expect(stepsLine(starved)).toBe('10 steps of 201 ms on NVIDIA H200');
    expect(dataWaitLine(starved)).toBe('Waiting for data: 58% of step time (117 ms per step)');
    expect(gpuLine(starved)).toBe(
      'GPU busy 22% of the steps, idle 1.56 s: 20 idle gaps of 1 ms or more; the longest 295 ms at 1.08 s'
    );
    const cpu = { ...starved, device: null, gpu_busy_share: null, data_wait_share: 0.004, steps: 1 };
    expect(stepsLine(cpu)).toBe('1 step of 201 ms (CPU only)');
    expect(gpuLine(cpu)).toBeNull();
    expect(dataWaitLine(cpu)).toBe('Waiting for data: <1% of step time (117 ms per step)');
    expect(dataWaitLine({ ...starved, data_wait_share: null })).toBeNull();
  });

  it('shortens kernel names and keeps plain ones', () => {
    expect(
      shortName(
        'void at::native::(anonymous namespace)::multi_tensor_apply_kernel<at::native::(anonymous namespace)::' +
          'TensorListMetadata<1>, float>(at::native::TensorListMetadata<1>, float)'
      )
    ).toBe('native::multi_tensor_apply_kernel');
    expect(shortName('void cudnn::bn_fw_tr_1C11_kernel_NCHW<float, float, 512, true, 1>(float, float)')).toBe(
      'cudnn::bn_fw_tr_1C11_kernel_NCHW'
    );
    expect(shortName('Memcpy HtoD (Pageable -> Device)')).toBe('Memcpy HtoD (Pageable -> Device)');
    expect(shortName('aten::addmm')).toBe('aten::addmm');
    expect(shortName('sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x256x64')).toBe(
      'sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x256x64'
    );
  });

  it('formats numbers', () => {
    expect(percent(null)).toBe('–');
    expect(percent(0)).toBe('0%');
    expect(percent(0.996)).toBe('>99%');
    expect(percent(1)).toBe('100%');
    expect(ms(0.034)).toBe('0.03 ms');
    expect(ms(3.25)).toBe('3.3 ms');
    expect(ms(12345)).toBe('12 s');
    expect(sizeText(1498156)).toBe('1.4 MB');
    expect(sizeText(2048)).toBe('2 kB');
  });

  it('says why there is no summary', () => {
    const base: IJobProfile = {
      job_id: '1',
      mode: 'torch',
      state: 'waiting',
      message: null,
      file: null,
      summary: null,
      summary_error: null,
      advice: []
    };
    expect(stateText(base)).toMatch(/Nothing recorded yet/);
    expect(stateText({ ...base, state: 'no-torch', message: 'PyTorch is not installed' })).toBe(
      'PyTorch is not installed'
    );
    expect(stateText({ ...base, state: 'recorded' })).toBe('');
    expect(stateText({ ...base, mode: 'nsys', state: 'recorded' })).toMatch(/nsys-ui/);
  });
});
