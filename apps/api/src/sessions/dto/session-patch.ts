import {
  matching,
  mergedObject,
  type RepresentationShape,
} from '../../common/validation/representation-patch';
import { STATUS_PATTERN, STATUS_RULE } from './session-fields';

/** What a merge patch of a session (its GET representation) may and may not contain. */
export const SESSION_PATCH_SHAPE: RepresentationShape = {
  resource: 'session',
  writable: {
    session_config: mergedObject,
    metadata: mergedObject,
    status: matching(STATUS_PATTERN, STATUS_RULE),
  },
  readOnly: ['session_id', 'created_by', 'created_at', 'updated_at', 'expires_at', 'version'],
};
