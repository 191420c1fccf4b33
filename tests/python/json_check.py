"""JSON checks of the end-to-end tests (Debian's /usr/bin/python3).

  json_check.py strict FILE...
      every file parses with a strict parser (NaN / Infinity refused); *.log.json files are
      json lines, each checked
  json_check.py mmseg_log LOG --train N [--val M]
      loads LOG as mmseg 0.30's tools/analyze_logs.py does (lines without `epoch` skipped, then
      per-metric lists per epoch) and checks it holds N training points of loss and M of mIoU, with
      mmcv's train-line layout
"""
import argparse
import json
import sys
from collections import defaultdict

MMCV_TRAIN_HEAD = ['mode', 'epoch', 'iter', 'lr', 'memory', 'data_time', 'decode.loss_ce',
                   'decode.acc_seg']


def refuse(token):
    raise ValueError('non-standard JSON constant ' + token)


def strict(paths):
    for path in paths:
        with open(path) as f:
            if path.endswith('.log.json'):
                for number, line in enumerate(f, 1):
                    json.loads(line, parse_constant=refuse)
            else:
                json.load(f, parse_constant=refuse)
    print('%d file(s) parse strictly' % len(paths))
    return 0


def load_json_logs(json_logs):
    """mmseg 0.30 tools/analyze_logs.py, word for word in what it keeps."""
    log_dicts = [dict() for _ in json_logs]
    for json_log, log_dict in zip(json_logs, log_dicts):
        with open(json_log, 'r') as log_file:
            for line in log_file:
                log = json.loads(line.strip())
                # skip lines without `epoch` field
                if 'epoch' not in log:
                    continue
                epoch = log.pop('epoch')
                if epoch not in log_dict:
                    log_dict[epoch] = defaultdict(list)
                for k, v in log.items():
                    log_dict[epoch][k].append(v)
    return log_dicts


def mmseg_log(path, train, val):
    log_dict = load_json_logs([path])[0]
    assert list(log_dict) == [1], 'epochs %s' % list(log_dict)
    logs = log_dict[1]
    # plot_curve's loss points: the iterations of training lines.
    iters = [it for it, mode in zip(logs['iter'], logs['mode']) if mode == 'train']
    assert len(iters) == train, (len(iters), train)
    assert len(logs['loss']) == train and len(logs['decode.loss_ce']) == train
    assert len(logs.get('mIoU', [])) == val, (len(logs.get('mIoU', [])), val)
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            if d.get('mode') == 'train':
                assert list(d)[:len(MMCV_TRAIN_HEAD)] == MMCV_TRAIN_HEAD, list(d)
                assert list(d)[-2:] == ['loss', 'time'], list(d)
            elif d.get('mode') == 'val':
                assert list(d)[:7] == ['mode', 'epoch', 'iter', 'lr', 'aAcc', 'mIoU', 'mAcc'], list(d)
    print('analyze_logs reads %d loss and %d mIoU points' % (train, val))
    return 0


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument('command', choices=['strict', 'mmseg_log'])
    p.add_argument('paths', nargs='+')
    p.add_argument('--train', type=int, default=0)
    p.add_argument('--val', type=int, default=0)
    a = p.parse_args(argv)
    if a.command == 'strict':
        return strict(a.paths)
    return mmseg_log(a.paths[0], a.train, a.val)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
