"""salt-autoscale's gate for SNS messages: one package for Salt's reactor and for `salt-autoscale verify`.

The gate decides (gate.judge returns a Decision as data) and a separate step acts (actions.perform). Modules, by
concern: text (log-safe values), settings, envelope, policy, certificate, signature, store, gate, actions,
alerts, salt_glue (the reactor's entry point), judge_cli (verify's entry point).

Nothing here imports Salt at module scope or reads Salt's injected globals: the rendered ec2-autoscale.sls
passes __opts__ and data in.
"""
