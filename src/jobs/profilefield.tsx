/** The "Profile" choice of the New job and Run on GPU dialogs (JobSpec.profile, issue 25). */
import * as React from 'react';

import { formField } from './resources';

export type ProfileMode = '' | 'torch' | 'nsys';

const CHOICES: { mode: ProfileMode; label: string }[] = [
  { mode: '', label: 'No profile' },
  { mode: 'torch', label: 'PyTorch profiler (a few steps)' },
  { mode: 'nsys', label: 'Nsight Systems (nsys)' }
];

const HINTS: { [mode: string]: string } = {
  torch:
    'torch.profiler records a few training steps after warm-up (on optimizer.step(), or tritonml.profile()); ' +
    "the job's Profile section shows the top kernels, the time waiting for data and the GPU's idle gaps",
  nsys: 'nsys profile runs the program where nsys is on the PATH (load its module); the report is in the Profile section'
};

export function ProfileField(props: {
  mode: ProfileMode;
  errors: { [field: string]: string };
  onChange(mode: ProfileMode): void;
}): JSX.Element {
  return formField(
    props.errors,
    'profile',
    'Profile',
    <select
      className="tml-Select"
      name="profile"
      aria-label="Profile"
      value={props.mode}
      onChange={e => props.onChange(e.currentTarget.value as ProfileMode)}
    >
      {CHOICES.map(c => (
        <option key={c.mode} value={c.mode}>
          {c.label}
        </option>
      ))}
    </select>,
    HINTS[props.mode],
    true
  );
}
