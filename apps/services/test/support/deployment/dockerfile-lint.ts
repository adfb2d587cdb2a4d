import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

/**
 * A Dockerfile linter for the deployment test, because hadolint is in neither registry this project
 * uses. Syntax (unknown instructions and flags, bad arguments) is checked by dockerfile-utils, the
 * validator behind VS Code's Dockerfile support; on top of it, hadolint's main rules under their
 * hadolint ids, and a few of our own (BND…) for what a production image of ours must have.
 * @see https://github.com/hadolint/hadolint#rules
 */
export interface LintProblem {
  rule: string;
  line: number;
  message: string;
}

/** An exact release (`20.20.2-bookworm-slim`, `v3.5.0`), not a moving one (`20`, `lts`, `slim`). */
const EXACT_VERSION = /\d+\.\d+\.\d+/;
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY)/i;

export function lintDockerfile(content: string): LintProblem[] {
  const problems: LintProblem[] = [];
  const report = (rule: string, instruction: Instruction, message: string) =>
    problems.push({ rule, line: instruction.getRange().start.line + 1, message });

  for (const diagnostic of validate(content)) {
    const message = typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
    problems.push({ rule: 'syntax', line: diagnostic.range.start.line + 1, message });
  }

  const dockerfile = DockerfileParser.parse(content);
  const froms = dockerfile.getFROMs();
  const stageStarts = froms.map((from) => from.getRange().start.line);
  const stageOf = (instruction: Instruction) =>
    stageStarts.filter((start) => start <= instruction.getRange().start.line).length - 1;
  const finalStage = froms.length - 1;
  const stageNames: string[] = [];

  froms.forEach((from, index) => {
    const image = from.getImageName() ?? '';
    const stage = from.getBuildStage();
    if (stage) {
      if (stageNames.includes(stage)) report('DL3024', from, `stage name ${stage} is used twice`);
      stageNames.push(stage);
    }
    if (stageNames.slice(0, index).includes(image) || image === 'scratch') return;
    const tag = from.getImageTag();
    const digest = from.getImageDigest();
    if (!tag && !digest) report('DL3006', from, `${image}: always tag the base image`);
    if (tag === 'latest') report('DL3007', from, `${image}: do not use the latest tag`);
    if (!digest && !EXACT_VERSION.test(tag ?? '')) {
      report('BND001', from, `${image}:${tag}: pin an exact version or a digest`);
    }
  });

  let pipefail = false;
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArguments().map((argument) => argument.getValue());
    const text = instruction.getArgumentsContent() ?? '';
    const stage = stageOf(instruction);
    switch (keyword) {
      case 'MAINTAINER':
        report('DL4000', instruction, 'MAINTAINER is deprecated; use a LABEL');
        break;
      case 'WORKDIR':
        if (!args[0]?.startsWith('/') && !args[0]?.startsWith('$')) {
          report('DL3000', instruction, `WORKDIR ${args[0]} must be absolute`);
        }
        break;
      case 'ADD':
        report('DL3020', instruction, 'use COPY for files and folders (ADD fetches and unpacks implicitly)');
        break;
      case 'SHELL':
        pipefail = /pipefail/.test(text);
        break;
      case 'CMD':
      case 'ENTRYPOINT':
        if (!text.trim().startsWith('['))
          report('DL3025', instruction, `${keyword} must use the JSON (exec) form`);
        break;
      case 'ENV':
      case 'ARG':
        for (const name of text.split(/\s+/).map((part) => part.split('=')[0] ?? '')) {
          if (SECRET_NAME.test(name)) {
            report('BND005', instruction, `${name}: secrets never go into an image (pass them at run time)`);
          }
        }
        break;
      case 'COPY': {
        if (!(instruction instanceof Copy)) break;
        const from = instruction
          .getFlags()
          .find((flag) => flag.getName() === 'from')
          ?.getValue();
        if (
          from &&
          !stageNames.slice(0, stage).includes(from) &&
          !from.includes(':') &&
          !/^\d+$/.test(from)
        ) {
          report('DL3022', instruction, `COPY --from=${from} names no earlier stage`);
        }
        if (stage === finalStage && !instruction.getFlags().some((flag) => flag.getName() === 'chown')) {
          report('BND004', instruction, 'state the owner of what the final image gets (COPY --chown)');
        }
        break;
      }
      case 'RUN':
        checkRun(text, instruction, report, pipefail);
        break;
    }
  }

  const finalInstructions = dockerfile
    .getInstructions()
    .filter((instruction) => stageOf(instruction) === finalStage);
  const users = finalInstructions.filter((instruction) => instruction.getKeyword() === 'USER');
  const lastUser = users.at(-1)?.getArguments()[0]?.getValue() ?? '';
  const fromOfFinal = froms[finalStage];
  if (fromOfFinal && !lastUser)
    report('DL3002', fromOfFinal, 'the final stage must switch to a non-root USER');
  else if (/^(root|0)(:|$)/.test(lastUser)) report('DL3002', users.at(-1)!, 'the last USER must not be root');
  else if (fromOfFinal && !/^\d+(:\d+)?$/.test(lastUser)) {
    report('BND002', users.at(-1)!, `USER ${lastUser}: use a numeric uid so that runAsNonRoot can verify it`);
  }
  if (fromOfFinal && !finalInstructions.some((instruction) => instruction.getKeyword() === 'HEALTHCHECK')) {
    report('BND003', fromOfFinal, 'the final stage needs a HEALTHCHECK');
  }
  return problems;
}

function checkRun(
  command: string,
  instruction: Instruction,
  report: (rule: string, instruction: Instruction, message: string) => void,
  pipefail: boolean,
) {
  if (/(^|[;&|]\s*)sudo\s/.test(command)) report('DL3004', instruction, 'do not use sudo');
  if (/(^|[;&|]\s*)cd\s/.test(command)) report('DL3003', instruction, 'use WORKDIR instead of cd');
  if (/(^|[;&|]\s*)apt\s/.test(command)) report('DL3027', instruction, 'use apt-get, not apt');
  if (command.replace(/\|\|/g, '').includes('|') && !pipefail) {
    report('DL4006', instruction, 'set SHELL ["/bin/bash", "-o", "pipefail", "-c"] before a RUN with a pipe');
  }
  for (const install of command.matchAll(/apt-get\s+install\s+([^;&|]*)/g)) {
    const words = (install[1] ?? '').split(/\s+/).filter(Boolean);
    if (!words.includes('--no-install-recommends')) {
      report('DL3015', instruction, 'apt-get install --no-install-recommends');
    }
    for (const name of words.filter((word) => !word.startsWith('-'))) {
      if (!name.includes('='))
        report('DL3008', instruction, `apt-get install ${name}: pin its version (${name}=…)`);
    }
    if (!/rm -rf \/var\/lib\/apt\/lists/.test(command)) {
      report('DL3009', instruction, 'remove /var/lib/apt/lists in the same RUN');
    }
  }
  for (const install of command.matchAll(/(?:^|[\s;&|])npm\s+(?:install|i|add)\s+([^;&|]*)/g)) {
    for (const name of (install[1] ?? '').split(/\s+/).filter((word) => word && !word.startsWith('-'))) {
      if (!/.@[^@/]+$/.test(name))
        report('DL3016', instruction, `npm install ${name}: pin its version (${name}@…)`);
    }
  }
}
