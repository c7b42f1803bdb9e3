import { metaParts } from '../jobs/components';
import { job } from './jobs.fixture';

describe('a job whose directory does not answer (issue 23)', () => {
  it('says so on its row, next to what Slurm says', () => {
    const hung = job({ id: '9', state: 'RUNNING', nodes: 'csl1', directory_error: 'directory not answering' });
    expect(metaParts(hung)).toContain('directory not answering');
    expect(metaParts(hung)).toContain('csl1');
    expect(metaParts(job({ id: '8', state: 'RUNNING' }))).not.toContain('directory not answering');
  });
});
