import { APIError } from '../../api';
import { problemOf } from '../status';

describe('problemOf', () => {
  it('says nothing when the extension started', () => {
    expect(problemOf({ ok: true, version: '1', reason: null })).toBeNull();
  });

  it('names the reason and who can fix it', () => {
    expect(problemOf({ ok: false, version: '1', reason: "c.TritonML.catalog_roots: not 'x'" })).toBe(
      "tritonml-lab could not start: c.TritonML.catalog_roots: not 'x' — tell your admins"
    );
  });

  it('tells a missing server extension from a server that does not answer', () => {
    expect(problemOf(null, new APIError('Not Found', 404))).toMatch(/server extension is not enabled/);
    expect(problemOf(null, new APIError('The Jupyter server did not answer.', 0))).toBeNull();
  });
});
