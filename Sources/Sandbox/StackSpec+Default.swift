/// The embedded default stack, identical to `compose/drill.yml` in the repository (a test keeps them equal).
extension StackSpec {
    public static let defaultYAML = #"""
# The drill's sandbox stack: the documented Compose subset acp-drill reads (docs/DESIGN.md §3).
#
# Allowed per service: image, environment, command, entrypoint, healthcheck, tmpfs, shm_size, mem_limit,
# depends_on, labels, anonymous volumes (- /path), cap_add (from a small allow-list), user, working_dir,
# restart: "no", x-acp-drill-role (postgres | redis | app; inferred from the image otherwise).
# Refused, naming the key and its line: ports, expose, network_mode, networks, privileged, pid, ipc,
# devices, security_opt, extra_hosts, dns, sysctls, links, volumes_from, build, container_name, secrets,
# configs, env_file, bind mounts, named or external volumes and networks.
#
# Every service joins the project's own internal network (no route out, no published ports) under its
# service name, runs with all capabilities dropped (plus what its entrypoint needs), no-new-privileges,
# memory and pids limits, and gets an anonymous, labelled volume for every data path. POSTGRES_PASSWORD is
# generated per sandbox when not given. Extra services (the platform's own app containers) may be added:
# they start after the services they depend on are ready.
services:
  postgres:
    image: acp-drill/postgres:15
    environment:
      POSTGRES_USER: postgres
      POSTGRES_DB: postgres
    shm_size: 1g
    mem_limit: 4g
    volumes:
      - /var/lib/postgresql/data
  redis:
    image: acp-drill/redis:7
    mem_limit: 512m
    volumes:
      - /data

"""#

    /// The default stack: Postgres 15 and Redis 7 from the offline images.
    public static func defaultStack() throws -> StackSpec { try parse(yaml: defaultYAML, file: "(embedded compose/drill.yml)") }
}
