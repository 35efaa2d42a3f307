import { Inject, Injectable } from '@nestjs/common';
import { isAgentOnly, type Principal } from '../auth/principal';
import type { Permission } from '../auth/permissions';
import {
  compileGrants,
  permissionRefusal,
  type RoleGrants,
  type ScopePermissions,
} from '../auth/rbac-policy';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { memoryAgentOf, type EventDto } from './event-view';
import type { EventResourceType } from './event-types';

const READ_PERMISSION: Record<EventResourceType, Permission> = {
  session: 'sessions:read',
  memory: 'memory:read',
  cache: 'cache:read',
};

/** What a subscriber asked for (query parameters), already validated. */
export interface EventFilter {
  types?: ReadonlySet<string>;
  resourceType?: string;
  resourceId?: string;
}

/**
 * Decides which events a caller sees: exactly what it could read. A resource type needs its read
 * permission (from roles, and from scopes when the token has scopes, like the permissions guard);
 * an agent-only caller sees memory events of its own records only, as GET /agents/{id}/memory
 * refuses it any other agent.
 */
@Injectable()
export class EventAccess {
  private readonly grants: RoleGrants;
  private readonly scopePolicy: ScopePermissions;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.grants = compileGrants(config.auth.rolePermissions);
    this.scopePolicy = config.auth.scopePermissions;
  }

  /** A predicate over events for this caller and filter, computed once per subscription. */
  visibleTo(caller: Principal, filter: EventFilter): (event: EventDto) => boolean {
    const readable = new Set<string>();
    for (const [resource, permission] of Object.entries(READ_PERMISSION)) {
      if (this.may(caller, permission)) readable.add(resource);
    }
    const ownAgentOnly = isAgentOnly(caller) ? caller.sub : undefined;
    return (event) => {
      if (!readable.has(event.resource_type)) return false;
      if (filter.types && !filter.types.has(event.type)) return false;
      if (filter.resourceType !== undefined && event.resource_type !== filter.resourceType) {
        return false;
      }
      if (filter.resourceId !== undefined && event.resource_id !== filter.resourceId) return false;
      if (ownAgentOnly !== undefined && event.resource_type === 'memory') {
        return memoryAgentOf(event) === ownAgentOnly;
      }
      return true;
    };
  }

  private may(caller: Principal, permission: Permission): boolean {
    return permissionRefusal(this.grants, this.scopePolicy, caller, [permission]) === undefined;
  }
}
