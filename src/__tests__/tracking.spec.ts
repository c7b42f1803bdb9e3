import { describeTarget, parseTarget, tabTitle, targetOf, widgetId } from '../tracking/model';

describe('Open TensorBoard: what to ask the server for', () => {
  it('takes exactly one of job, sweep and path from command arguments', () => {
    expect(targetOf({ sweep: '42' })).toEqual({ sweep: '42' });
    expect(targetOf({ job: ' 7_1 ' })).toEqual({ job: '7_1' });
    expect(targetOf({ path: 'runs/exp1' })).toEqual({ path: 'runs/exp1' });
    expect(targetOf({})).toBeNull();
    expect(targetOf({ job: '1', sweep: '2' })).toBeNull();
    expect(targetOf({ job: '', fromBrowser: true })).toBeNull();
    expect(targetOf({ job: 3 })).toBeNull();
  });

  it('reads what a user typed: a job id, "sweep ID" or a folder', () => {
    expect(parseTarget('123')).toEqual({ job: '123' });
    expect(parseTarget('123_4')).toEqual({ job: '123_4' });
    expect(parseTarget(' Sweep 99 ')).toEqual({ sweep: '99' });
    expect(parseTarget('runs/lr 0.1')).toEqual({ path: 'runs/lr 0.1' });
    expect(parseTarget('12a')).toEqual({ path: '12a' });
    expect(parseTarget('   ')).toBeNull();
  });

  it('names the tab and gives one tab per TensorBoard', () => {
    expect(tabTitle({ label: 'sweep 5' })).toBe('TensorBoard · sweep 5');
    expect(widgetId({ id: '0123456789abcdef' })).toBe('tritonml-tensorboard-0123456789abcdef');
    expect(describeTarget({ job: '5' })).toBe('job 5');
    expect(describeTarget({ path: 'a/b' })).toBe('folder a/b');
  });
});
