#!/usr/bin/env bash
# `make demo`: 20 clones of a sample GNS3 project (VPCS and qemu nodes) on a file-backed zfs-fuse
# pool under .work/demo, made by playbooks/mass_clone.yml on localhost, for a real GNS3 server
# (hack/demo_gns3.py: 3.0 on 127.0.0.1:13100) that reloads and opens them. `make demo-clean` undoes it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo=$root/.work/demo
pool=${LABFARM_DEMO_POOL:-labfarm_demo}
action=${1:-up}
mkdir -p "$demo"

zfs_up() {
    "$root/hack/zfs-fuse.sh" start "$demo/zfs-fuse.started-by-demo"
    # A restarted zfs-fuse imports the pool without mounting it: mount its datasets, parents first.
    if zpool list -H -o name "$pool" >/dev/null 2>&1; then
        zfs list -H -o name,mounted -r "$pool" | awk '$2 == "no" {print $1}' | while read -r dataset; do
            zfs mount "$dataset" 2>/dev/null || true
        done
    fi
}

gns3() {
    "$root/.venv/bin/python" "$root/hack/demo_gns3.py" "$@"
}

playbook() {
    ansible-playbook -i "$root/playbooks/inventory/demo.yml" "$root/playbooks/mass_clone.yml" \
        -e mass_clone_names='Cexam_[01-20]' -e mass_clone_source=lab \
        -e mass_clone_gns3_url="${gns3_url:-}" -e mass_clone_gns3_username=admin -e mass_clone_gns3_password=admin \
        -e mass_clone_projects_root="$demo/mnt/gns3/projects" -e mass_clone_projects_dataset="$pool/gns3/projects" \
        -e mass_clone_summary_dir="$demo" "$@"
}

case $action in
up)
    zfs_up
    if ! zpool list -H -o name "$pool" >/dev/null 2>&1; then
        echo "demo: creating pool $pool on $demo/pool.img"
        truncate -s 1G "$demo/pool.img"
        zpool create -m "$demo/mnt" "$pool" "$demo/pool.img"
        zfs create -p "$pool/gns3/projects"
    fi
    # The source project lives in its own dataset named after its project_id, as GNS3 lays projects out.
    source_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["project_id"])' \
        "$root/playbooks/files/sample_project/lab.gns3")
    if ! zfs list -H -o name "$pool/gns3/projects/$source_id" >/dev/null 2>&1; then
        zfs create "$pool/gns3/projects/$source_id"
        cp -r "$root/playbooks/files/sample_project/." "$demo/mnt/gns3/projects/$source_id/"
    fi
    gns3 start "$demo" "$demo/mnt/gns3/projects"
    gns3_url=http://127.0.0.1:13100
    playbook
    echo
    gns3 report "$demo" "$(python3 -c 'import json; print(json.dumps(["Cexam_%02d" % i for i in range(1, 21)]))')"
    echo
    echo "demo: 20 clones of 'lab' are in $demo/mnt/gns3/projects (zfs list -r $pool/gns3/projects)."
    echo "demo: summary in $demo/lab-clones.csv and $demo/lab-clones.json. Undo everything with: make demo-clean"
    ;;
clean)
    zfs_up
    if gns3 running "$demo"; then gns3_url=http://127.0.0.1:13100; fi
    if zpool list -H -o name "$pool" >/dev/null 2>&1; then
        playbook -e mass_clone_state=absent
    fi
    gns3 stop "$demo"
    if zpool list -H -o name "$pool" >/dev/null 2>&1; then
        for _ in 1 2 3 4 5; do zpool destroy -f "$pool" && break; sleep 1; done
    fi
    "$root/hack/zfs-fuse.sh" stop "$demo/zfs-fuse.started-by-demo"
    rm -rf "$demo"
    echo "demo: removed the clones, the pool $pool and $demo"
    ;;
*)
    echo "usage: $0 up|clean" >&2
    exit 2
    ;;
esac
