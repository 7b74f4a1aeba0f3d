module.exports = async () => {
  await globalThis.__SEALBOX__.stop();
};
