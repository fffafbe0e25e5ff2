-- Per policy: how long an acknowledgement holds escalation (working time), and how often
-- the top of the chain is reminded once the chain is exhausted.
ALTER TABLE sla_policies ADD COLUMN ack_timeout_seconds BIGINT CHECK (ack_timeout_seconds > 0);
ALTER TABLE sla_policies ADD COLUMN exhausted_repeat_seconds BIGINT CHECK (exhausted_repeat_seconds > 0);
ALTER TABLE policy_versions ADD COLUMN ack_timeout_seconds BIGINT;
ALTER TABLE policy_versions ADD COLUMN exhausted_repeat_seconds BIGINT;

-- Exhausted chains are few among many transitions: counted through their own index.
CREATE INDEX sla_transitions_exhausted ON sla_transitions (workflow_id) WHERE kind = 'exhaust';
