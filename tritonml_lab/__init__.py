"""tritonml-lab: a JupyterLab extension that makes a Slurm GPU cluster feel interactive."""
