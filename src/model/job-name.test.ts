// The one naming rule, table-wise over command lines as `flurm run` records them.
import { describe, expect, it } from 'vitest';
import { commandName, jobName, NAME_MAX_CHARS, splitCommands, withJobName } from './job-name.js';

// Command lines as `flurm run` records them (`cmd`: the words shell-quoted, or a shell string as typed).
const COMMANDS: [cmd: string, name: string][] = [
  // shells: the script's real work names the job; set-up steps only, and it is the shell
  [`sh -c 'echo hi; exit 3'`, 'sh'],
  [`sh -c 'sleep 1; exit 3'`, 'sh'],
  [`sh -c 'python train.py --lr 3'`, 'train.py'],
  [`bash -lc 'cd ~/proj && source .venv/bin/activate && python train.py --lr 3'`, 'train.py'],
  [`bash -lc 'eval "$(conda shell.bash hook)"; conda activate ml && python -u finetune.py 2>&1 | tee log.txt'`, 'finetune.py'],
  [`bash -o pipefail -ec './prep.sh && ./train.sh'`, 'prep.sh'],
  [`bash run.sh --fast`, 'run.sh'],
  [`bash`, 'bash'],
  // interpreters
  [`python train.py --lr 3`, 'train.py'],
  [`python3.11 -u -W ignore scripts/train.py`, 'train.py'],
  [`python -m pkg.train --epochs 3`, 'pkg.train'],
  [`python -c 'import torch; print(torch.cuda.is_available())'`, 'python'],
  [`python - <<EOF`, 'python'],
  [`./venv/bin/python "$HOME/exp/eval.py"`, 'eval.py'],
  [`Rscript analysis.R`, 'analysis.R'],
  [`julia -t 8 sim.jl`, 'sim.jl'],
  [`java -Xmx8g -jar tools/picard.jar MarkDuplicates`, 'picard.jar'],
  // wrappers
  [`env FOO=1 python x.py`, 'x.py'],
  [`env -u DISPLAY CUDA_VISIBLE_DEVICES=0 python x.py`, 'x.py'],
  [`CUDA_VISIBLE_DEVICES=1 ./run.sh`, 'run.sh'],
  [`nohup python train.py`, 'train.py'],
  [`nohup ./long_job.sh > out.log 2>&1 &`, 'long_job.sh'],
  [`/usr/bin/time -v python train.py`, 'train.py'],
  [`time -o times.txt -f %e ./bench`, 'bench'],
  [`timeout 2h python x.py`, 'x.py'],
  [`nice -n 10 ionice -c 3 rsync -a src/ dst/`, 'rsync'],
  [`taskset -c 0-3 ./solver`, 'solver'],
  [`srun -p gpu --gres=gpu:1 -n 4 python train.py`, 'train.py'],
  [`srun --partition gpu --pty bash`, 'bash'],
  [`srun hostname`, 'hostname'],
  [`mpirun -np 8 --mca btl ^openib ./solver input.dat`, 'solver'],
  [`torchrun --nproc_per_node 4 pretrain.py`, 'pretrain.py'],
  [`python -m torch.distributed.run --nproc_per_node=2 train.py`, 'train.py'],
  [`accelerate launch --num_processes 2 --multi_gpu finetune.py`, 'finetune.py'],
  [`uv run python eval.py`, 'eval.py'],
  [`uv sync && uv run --with rich python eval.py`, 'eval.py'],
  [`conda run -n ml python x.py`, 'x.py'],
  [`sbatch -p gpu --wrap 'python x.py'`, 'x.py'],
  [`sbatch -p gpu job.sh`, 'job.sh'],
  // plain programs and shell strings (`flurm run 'make && ./bench'`)
  [`make -j8 all`, 'make'],
  [`make && ./bench`, 'make'],
  [`sleep 100`, 'sleep'],
  [`cd /data; ./preprocess --fast`, 'preprocess'],
  [`for f in *.csv; do python load.py "$f"; done`, 'load.py'],
  [`'my script.sh' --x`, 'my script.sh'],
  [`[python]`, 'python'],
];

describe('jobName: one rule for the message, flurm jobs, inspect and the API', () => {
  it.each(COMMANDS)('%s → %s', (cmd, name) => {
    expect(jobName({ title: null, cmd })).toBe(name);
  });

  it('a --title always wins, trimmed and on one line', () => {
    expect(jobName({ title: '  sweep lr=3e-4  ', cmd: `sh -c 'python train.py'` })).toBe('sweep lr=3e-4');
    expect(jobName({ title: 'two\nlines', cmd: 'x' })).toBe('two lines');
    expect(jobName({ title: 'x'.repeat(200), cmd: null })).toHaveLength(NAME_MAX_CHARS);
  });

  it('a legacy ~/.pingchilling title names the job; an empty one falls back to "job"', () => {
    expect(jobName({ title: 'nightly backup', cmd: null })).toBe('nightly backup');
    expect(jobName({ title: '', cmd: null })).toBe('job');
  });

  it("a SLURM job goes by flurm's title, else SLURM's job name, else its command", () => {
    const slurm = { job_id: '4242', final: { name: 'resnet-sweep' } };
    expect(jobName({ title: null, cmd: 'sbatch -p gpu job.sh', slurm })).toBe('resnet-sweep');
    expect(jobName({ title: 'mine', cmd: 'sbatch -p gpu job.sh', slurm })).toBe('mine');
    expect(jobName({ title: null, cmd: 'sbatch -p gpu job.sh' }, { schedulerName: 'from-sacct' })).toBe('from-sacct');
    expect(jobName({ title: null, cmd: 'sbatch -p gpu job.sh', slurm: { job_id: '1' } })).toBe('job.sh');
  });

  it('a hidden command never leaks into the name', () => {
    expect(jobName({ title: null, cmd: null })).toBe('job');
    expect(jobName({ title: null, cmd: undefined })).toBe('job');
    expect(jobName({ title: null, cmd: '' })).toBe('job');
    expect(jobName({ title: null, cmd: 'python leak_me.py' }, { hideCommand: true })).toBe('job');
    expect(jobName({ title: 'ok', cmd: 'python leak_me.py' }, { hideCommand: true })).toBe('ok');
  });

  it('a command that names nothing is "job"', () => {
    expect(jobName({ title: null, cmd: 'FOO=1' })).toBe('job');
    expect(jobName({ title: null, cmd: '$CMD --fast' })).toBe('job');
    expect(commandName('   ')).toBeNull();
  });

  it('withJobName adds `name` and keeps every other field', () => {
    const j = { id: 'j1', user: 'alice', host: 'gpu3', state: 'failed' as const, title: null, cmd: `sh -c 'python train.py'` };
    expect(withJobName(j)).toEqual({ ...j, name: 'train.py' });
  });
});

describe('splitCommands', () => {
  it('splits at control operators, keeps quoted text whole, drops redirections and comments', () => {
    const words = splitCommands(`a 'b c' "d $X" >out 2>&1 e; f && g | h # note\n i <<<"in" j`).map((c) => c.map((w) => w.text));
    expect(words).toEqual([['a', 'b c', 'd $X', 'e'], ['f'], ['g'], ['h'], ['i', 'j']]);
  });
});
